package gpu

import "fmt"

// Bandwidth is a measured copy rate between pinned host memory and the device.
type Bandwidth struct {
	Bytes       int     // bytes per copy
	HostToDevMS float64 // milliseconds per host -> device copy
	DevToHostMS float64 // milliseconds per device -> host copy
}

// HostToDevGBs returns the upload rate in GB/s (1e9 bytes per second).
func (b Bandwidth) HostToDevGBs() float64 { return float64(b.Bytes) / b.HostToDevMS / 1e6 }

// DevToHostGBs returns the download rate in GB/s.
func (b Bandwidth) DevToHostGBs() float64 { return float64(b.Bytes) / b.DevToHostMS / 1e6 }

// MeasureBandwidth times `iters` back-to-back copies of `bytes` bytes each way between a
// pinned host buffer and device memory, with events on one stream, after one warm-up copy.
// The calling goroutine must hold a Bind.
func (dev *Device) MeasureBandwidth(bytes, iters int) (Bandwidth, error) {
	if iters < 1 {
		iters = 1
	}
	bw := Bandwidth{Bytes: bytes}
	host, err := dev.AllocHost(bytes)
	if err != nil {
		return bw, err
	}
	defer host.Free()
	buf, err := dev.Alloc(bytes)
	if err != nil {
		return bw, err
	}
	defer buf.Free()
	s, err := dev.NewStream()
	if err != nil {
		return bw, err
	}
	defer s.Destroy()
	start, err := dev.NewEvent(true)
	if err != nil {
		return bw, err
	}
	defer start.Destroy()
	end, err := dev.NewEvent(true)
	if err != nil {
		return bw, err
	}
	defer end.Destroy()
	time := func(copy func() error) (float64, error) {
		if err := copy(); err != nil { // warm-up
			return 0, err
		}
		if err := start.Record(s); err != nil {
			return 0, err
		}
		for i := 0; i < iters; i++ {
			if err := copy(); err != nil {
				return 0, err
			}
		}
		if err := end.Record(s); err != nil {
			return 0, err
		}
		if err := end.Synchronize(); err != nil {
			return 0, err
		}
		ms, err := ElapsedMS(start, end)
		return float64(ms) / float64(iters), err
	}
	h := host.Bytes()
	if bw.HostToDevMS, err = time(func() error { return dev.CopyToDevice(buf.Ptr(), h, s) }); err != nil {
		return bw, fmt.Errorf("measure uploads: %w", err)
	}
	if bw.DevToHostMS, err = time(func() error { return dev.CopyToHost(h, buf.Ptr(), s) }); err != nil {
		return bw, fmt.Errorf("measure downloads: %w", err)
	}
	return bw, nil
}
