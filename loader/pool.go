package loader

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ebitengine/purego"
)

// Pool is the host thread pool behind scope_host.parallel_for (ABI 1.1): a fixed set of worker
// goroutines that plugins split their rows across instead of starting threads of their own.
// One pool serves every library opened with it, so many nodes share the cores rather than
// oversubscribing them.
//
// The caller of For always works on its own job too, and waits only for ranges that a worker
// has already started; a job is offered to the workers without blocking, and a worker that
// takes it late finds nothing left and moves on. So a For called while every worker is busy
// (including a nested For from inside a range function) runs on the calling goroutine alone,
// and no call can wait for a worker that waits for it.
type Pool struct {
	workers int
	jobs    chan *poolJob
	stop    chan struct{}
	close   sync.Once
}

// poolJob is one For call: ranges of chunk items over [0, count), claimed by index.
type poolJob struct {
	run      func(begin, end uint32)
	count    uint32
	chunk    uint32
	chunks   uint32
	next     atomic.Uint32
	done     atomic.Uint32
	finished chan struct{}
}

// chunksPerWorker is how many ranges For cuts per worker: a few, so that a worker slowed by
// another process on its core does not hold the whole job back, yet few enough that the cost
// of a range (one call into the plugin) stays small beside its rows.
const chunksPerWorker = 4

// NewPool returns a pool that runs at most `workers` ranges at once, the caller's included;
// workers < 1 means one per CPU. Its workers-1 helper goroutines (the caller of For is the
// last worker) wait, costing nothing, until Close stops them.
func NewPool(workers int) *Pool {
	if workers < 1 {
		workers = runtime.NumCPU()
	}
	p := &Pool{workers: workers, jobs: make(chan *poolJob, workers-1), stop: make(chan struct{})}
	p.spawn()
	return p
}

// DefaultPool is the process's shared pool, one worker per CPU, made on first use. Libraries
// opened with a nil Options.Pool use it.
var DefaultPool = sync.OnceValue(func() *Pool { return NewPool(0) })

// Workers returns the number of ranges the pool runs at once, the caller's included.
func (p *Pool) Workers() int { return p.workers }

// Close stops the pool's helper goroutines once the ranges they run have finished. A For after
// Close still completes, on its caller.
func (p *Pool) Close() {
	p.close.Do(func() { close(p.stop) })
}

// For calls run over disjoint ranges covering [0, count) exactly once, each at least grain
// items long (except the last), on the pool's workers and the calling goroutine, and returns
// when every range has finished.
func (p *Pool) For(count, grain uint32, run func(begin, end uint32)) {
	if count == 0 {
		return
	}
	grain = max(grain, 1)
	chunk := max(grain, ceilDiv(count, uint32(p.workers*chunksPerWorker)))
	chunks := ceilDiv(count, chunk)
	if p.workers <= 1 || chunks <= 1 {
		run(0, count)
		return
	}
	j := &poolJob{run: run, count: count, chunk: chunk, chunks: chunks, finished: make(chan struct{})}
offer:
	for i := 0; i < min(p.workers-1, int(chunks)-1); i++ {
		select {
		case p.jobs <- j:
		default:
			break offer // the queue is full of other jobs: the caller does the rest
		}
	}
	j.work()
	<-j.finished
}

// spawn starts the helper goroutines (the caller is the pool's last worker).
func (p *Pool) spawn() {
	for i := 0; i < p.workers-1; i++ {
		go func() {
			for {
				select {
				case j := <-p.jobs:
					j.work()
				case <-p.stop:
					return
				}
			}
		}()
	}
}

// work runs ranges of the job until none is left to claim.
func (j *poolJob) work() {
	for {
		c := j.next.Add(1) - 1
		if c >= j.chunks {
			return
		}
		begin := c * j.chunk
		j.run(begin, min(begin+j.chunk, j.count))
		if j.done.Add(1) == j.chunks {
			close(j.finished)
		}
	}
}

// ceilDiv is a/b rounded up, for a >= 1 (without the overflow of (a+b-1)/b).
func ceilDiv(a, b uint32) uint32 { return (a-1)/b + 1 }

// parallelFor is the C side of scope_host.parallel_for: it runs the plugin's range function
// on the pool of the library whose host block `host` is.
func parallelFor(host, count, grain, fn, ctx uintptr) {
	hb := hostBlockOf(host)
	if fn == 0 {
		return
	}
	hb.pool.For(uint32(count), uint32(grain), func(begin, end uint32) {
		purego.SyscallN(fn, ctx, uintptr(begin), uintptr(end))
	})
}
