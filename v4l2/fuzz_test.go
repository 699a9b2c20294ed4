package v4l2

import (
	"strings"
	"syscall"
	"testing"
)

// FuzzProbe feeds arbitrary driver answers to Probe: whatever a device (or a recording) says,
// Probe returns a device or an error, never panics or loops without end, and lists a bounded
// number of formats and modes.
func FuzzProbe(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte(strings.Repeat("\x01\x00\x00\x80", 40)), uint8(7))
	f.Add([]byte("uvcvideo\x00\x00\x00\x00\x00\x00\x00\x00cam"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, stop uint8) {
		calls := 0
		ioctl := func(req uint32, arg []byte) error {
			calls++
			if calls > int(stop)+2 {
				return syscall.EINVAL
			}
			for i := range arg {
				if len(data) > 0 {
					arg[i] ^= data[(i+calls)%len(data)]
				}
			}
			return nil
		}
		d, err := Probe("/dev/videoF", ioctl)
		if err != nil {
			return
		}
		if len(d.Formats) > 256 {
			t.Fatalf("%d formats", len(d.Formats))
		}
		if _, err := Negotiate(d, Request{}); err != nil && !strings.Contains(err.Error(), "/dev/videoF") {
			t.Fatalf("negotiate error without the device: %v", err)
		}
	})
}
