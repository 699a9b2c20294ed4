// Package v4l2 lists Video4Linux2 devices (cameras and v4l2loopback virtual cameras) with the
// formats, sizes and frame rates they offer, and picks the mode that best matches a request.
// It talks to the kernel with plain ioctls (no cgo): VIDIOC_QUERYCAP, VIDIOC_ENUM_FMT,
// VIDIOC_ENUM_FRAMESIZES and VIDIOC_ENUM_FRAMEINTERVALS. Frames themselves are read and written
// by ffmpeg (package media); this package only tells what is there.
//
// Every ioctl goes through an Ioctl function, so that a device's answers can be recorded
// (Recorder) and replayed (Transcript.Ioctl) in tests on machines without one.
package v4l2

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// Capability bits of v4l2_capability.capabilities / device_caps.
const (
	CapVideoCapture       = 0x00000001
	CapVideoOutput        = 0x00000002
	CapVideoCaptureMplane = 0x00001000
	CapVideoOutputMplane  = 0x00002000
	CapVideoM2M           = 0x00004000
	CapVideoM2MMplane     = 0x00008000
	CapStreaming          = 0x04000000
	CapDeviceCaps         = 0x80000000
)

// Buffer types used for format enumeration.
const (
	bufVideoCapture = 1
	bufVideoOutput  = 2
)

// Frame size and interval enumeration types.
const (
	typeDiscrete   = 1
	typeContinuous = 2
	typeStepwise   = 3
)

// Sizes of the kernel structs (identical on every Linux ABI: only u8 arrays and u32 fields).
const (
	capabilitySize = 104
	fmtdescSize    = 64
	frmsizeSize    = 44
	frmivalSize    = 52
)

// ioc builds an ioctl request number as the kernel's _IOC macro does.
func ioc(dir, typ, nr, size uint32) uint32 { return dir<<30 | size<<16 | typ<<8 | nr }

// Request numbers.
var (
	reqQueryCap       = ioc(2, 'V', 0, capabilitySize)
	reqEnumFmt        = ioc(3, 'V', 2, fmtdescSize)
	reqEnumFrameSizes = ioc(3, 'V', 74, frmsizeSize)
	reqEnumFrameIvals = ioc(3, 'V', 75, frmivalSize)
)

// Ioctl performs one ioctl: arg is the struct's bytes, read and written in place. It returns
// a syscall.Errno on failure (EINVAL ends an enumeration).
type Ioctl func(req uint32, arg []byte) error

// Size is a frame size in pixels.
type Size struct{ Width, Height int }

// String writes WxH.
func (s Size) String() string { return fmt.Sprintf("%dx%d", s.Width, s.Height) }

// Mode is one frame size of a format with the frame rates it offers.
type Mode struct {
	Size
	FPS []float64 // highest first; empty when the driver does not say
}

// Format is one pixel format a device offers.
type Format struct {
	FourCC      string // "YUYV", "MJPG", "H264"...
	Description string // the driver's description
	Compressed  bool
	Modes       []Mode // discrete sizes, largest first; for stepwise sizes their max and min
	Stepwise    bool   // any size between the two Modes (v4l2loopback, many capture cards)
}

// Device is one V4L2 device node.
type Device struct {
	Path    string
	Driver  string
	Card    string
	Bus     string
	Caps    uint32   // the node's own capabilities (device_caps when the driver reports them)
	Formats []Format // capture formats for a capture device, output formats for an output one
}

// Capture reports whether frames can be read from the device (a camera).
func (d Device) Capture() bool { return d.Caps&(CapVideoCapture|CapVideoCaptureMplane) != 0 }

// Output reports whether frames can be written to it (a v4l2loopback virtual camera).
func (d Device) Output() bool { return d.Caps&(CapVideoOutput|CapVideoOutputMplane) != 0 }

// Loopback reports whether the device is a v4l2loopback virtual camera.
func (d Device) Loopback() bool {
	return d.Driver == "v4l2 loopback" || strings.Contains(d.Driver, "loopback")
}

// cstr reads a NUL-terminated string from a fixed array.
func cstr(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return strings.TrimSpace(string(b))
}

func u32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }

func put32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }

// fourcc turns a V4L2 pixel format code into its four letters.
func fourcc(v uint32) string {
	b := []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24 & 0x7f)}
	return strings.TrimRight(string(b), " \x00")
}

// Probe asks the device behind ioctl what it is and which formats, sizes and rates it offers.
// path names it in the result and in errors.
func Probe(path string, ioctl Ioctl) (Device, error) {
	d := Device{Path: path}
	c := make([]byte, capabilitySize)
	if err := ioctl(reqQueryCap, c); err != nil {
		return d, fmt.Errorf("%s: not a V4L2 device (VIDIOC_QUERYCAP: %w)", path, err)
	}
	d.Driver, d.Card, d.Bus = cstr(c[0:16]), cstr(c[16:48]), cstr(c[48:80])
	d.Caps = u32(c, 84)
	if d.Caps&CapDeviceCaps != 0 {
		d.Caps = u32(c, 88)
	}
	typ := uint32(bufVideoCapture)
	if !d.Capture() {
		if !d.Output() {
			return d, nil // a metadata or codec node: no video formats to list
		}
		typ = bufVideoOutput
	}
	for i := uint32(0); i < 256; i++ {
		b := make([]byte, fmtdescSize)
		put32(b, 0, i)
		put32(b, 4, typ)
		if err := ioctl(reqEnumFmt, b); err != nil {
			if errors.Is(err, syscall.EINVAL) {
				break
			}
			return d, fmt.Errorf("%s: list formats: %w", path, err)
		}
		pix := u32(b, 44)
		f := Format{FourCC: fourcc(pix), Description: cstr(b[12:44]), Compressed: u32(b, 8)&1 != 0}
		modes, step, err := probeSizes(ioctl, pix)
		if err != nil {
			return d, fmt.Errorf("%s: list sizes of %s: %w", path, f.FourCC, err)
		}
		f.Modes, f.Stepwise = modes, step
		d.Formats = append(d.Formats, f)
	}
	return d, nil
}

func probeSizes(ioctl Ioctl, pix uint32) (modes []Mode, stepwise bool, err error) {
	for i := uint32(0); i < 1024; i++ {
		b := make([]byte, frmsizeSize)
		put32(b, 0, i)
		put32(b, 4, pix)
		if err := ioctl(reqEnumFrameSizes, b); err != nil {
			if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTTY) {
				break
			}
			return nil, false, err
		}
		var sizes []Size
		switch u32(b, 8) {
		case typeDiscrete:
			sizes = []Size{{int(u32(b, 12)), int(u32(b, 16))}}
		default: // continuous or stepwise: min and max
			sizes = []Size{{int(u32(b, 16)), int(u32(b, 28))}, {int(u32(b, 12)), int(u32(b, 24))}}
		}
		for _, s := range sizes {
			fps, err := probeRates(ioctl, pix, s)
			if err != nil {
				return nil, false, err
			}
			modes = append(modes, Mode{Size: s, FPS: fps})
		}
		if u32(b, 8) != typeDiscrete {
			stepwise = true
			break
		}
	}
	sort.SliceStable(modes, func(i, j int) bool {
		return modes[i].Width*modes[i].Height > modes[j].Width*modes[j].Height
	})
	return modes, stepwise, nil
}

func probeRates(ioctl Ioctl, pix uint32, s Size) ([]float64, error) {
	var fps []float64
	for i := uint32(0); i < 256; i++ {
		b := make([]byte, frmivalSize)
		put32(b, 0, i)
		put32(b, 4, pix)
		put32(b, 8, uint32(s.Width))
		put32(b, 12, uint32(s.Height))
		if err := ioctl(reqEnumFrameIvals, b); err != nil {
			if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTTY) {
				break
			}
			return nil, err
		}
		// An interval num/den seconds is den/num frames per second. For stepwise ranges the
		// shortest interval (min) is the highest rate, and the longest (max) the lowest.
		add := func(off int) {
			if num, den := u32(b, off), u32(b, off+4); num > 0 && den > 0 {
				fps = append(fps, float64(den)/float64(num))
			}
		}
		add(20)
		if u32(b, 16) != typeDiscrete {
			add(28)
			break
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(fps)))
	return fps, nil
}

// sysIoctl is the real ioctl on an open device file.
func sysIoctl(fd uintptr) Ioctl {
	return func(req uint32, arg []byte) error {
		_, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, uintptr(req), uintptr(unsafe.Pointer(&arg[0])))
		if e != 0 {
			return e
		}
		return nil
	}
}

// Open probes the device node at path.
func Open(path string) (Device, error) {
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NONBLOCK, 0)
	if err != nil {
		return Device{Path: path}, explainOpen(path, err)
	}
	defer f.Close()
	return Probe(path, sysIoctl(f.Fd()))
}

// explainOpen turns an open error into one that says what to do.
func explainOpen(path string, err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s does not exist (list the devices with 'scope devices')", path)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("%s: permission denied; add your user to the 'video' group (sudo usermod -aG video $USER, then log in again)", path)
	case errors.Is(err, syscall.EBUSY):
		return fmt.Errorf("%s is busy: another program is using it (close it, or find it with 'fuser %s')", path, path)
	}
	return fmt.Errorf("open %s: %w", path, err)
}

// List probes every /dev/videoN node (in number order) under dir ("/dev" on a real system).
// Nodes that cannot be opened are returned with Err set, so a busy or forbidden camera is
// reported rather than hidden.
func List(dir string) []Listed {
	paths, _ := filepath.Glob(filepath.Join(dir, "video*"))
	sort.Slice(paths, func(i, j int) bool { return nodeNumber(paths[i]) < nodeNumber(paths[j]) })
	var out []Listed
	for _, p := range paths {
		d, err := Open(p)
		out = append(out, Listed{Device: d, Err: err})
	}
	return out
}

// Listed is one device of List, or why it could not be probed.
type Listed struct {
	Device
	Err error
}

func nodeNumber(p string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(p), "video"))
	if err != nil {
		return 1 << 30
	}
	return n
}

// FirstCapture returns the path of the first capture device under dir, or an error that says
// none was found.
func FirstCapture(dir string) (string, error) {
	var why []string
	for _, l := range List(dir) {
		if l.Err != nil {
			why = append(why, l.Err.Error())
			continue
		}
		if l.Capture() && len(l.Formats) > 0 {
			return l.Path, nil
		}
	}
	if len(why) > 0 {
		return "", fmt.Errorf("no usable camera: %s", strings.Join(why, "; "))
	}
	return "", fmt.Errorf("no camera found (no capture device among %s); plug one in, or name one with v4l2:/dev/videoN", filepath.Join(dir, "video*"))
}
