//go:build linux && amd64

#include "textflag.h"

// The kernel enters with the C ABI: DI = signal, SI = siginfo, DX = ucontext. Every register
// the Go handler reads is restored before the jump, and the stack is as the kernel left it.
#define ENTRY_SIZE 512
#define ENTRIES 64
#define UC_RIP 168 // ucontext.uc_mcontext.gregs[REG_RIP]

TEXT ·crashTrampoline(SB),NOSPLIT|NOFRAME,$0-0
	PUSHQ DI
	PUSHQ SI
	PUSHQ DX
	MOVQ UC_RIP(DX), AX
	CMPQ AX, ·crashTextLo(SB)
	JB external
	CMPQ AX, ·crashTextHi(SB)
	JB chain // Go code: the runtime's business
external:
	LEAQ ·crashTable(SB), R8
	MOVQ $ENTRIES, R9
next:
	CMPQ 0(R8), $0
	JEQ skip
	MOVQ $0, 0(R8) // once per call
	MOVQ 8(R8), DX
	LEAQ 16(R8), SI
	MOVQ $2, DI
	MOVQ $1, AX // write(2, line, n); clobbers CX and R11 only
	SYSCALL
skip:
	ADDQ $ENTRY_SIZE, R8
	DECQ R9
	JNZ next
chain:
	POPQ DX
	POPQ SI
	POPQ DI
	LEAQ ·crashPrev(SB), AX
	MOVLQSX DI, CX
	MOVQ (AX)(CX*8), AX
	JMP AX

TEXT ·crashTrampolineAddr(SB),NOSPLIT,$0-8
	LEAQ ·crashTrampoline(SB), AX
	MOVQ AX, ret+0(FP)
	RET
