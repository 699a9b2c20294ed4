// Command gen writes the device transcripts in v4l2/testdata from a model of each device's
// answers (a UVC webcam, its metadata node, a v4l2loopback device), laid out as the kernel
// headers define them. Run from the repository root: go run ./v4l2/testdata/gen. A transcript
// of a real device comes from 'scope devices --record DIR'.
package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"syscall"

	"github.com/scopenative/scope/v4l2"
)

type mode struct {
	w, h  uint32
	ivals [][2]uint32
}
type fmtd struct {
	pix   string
	desc  string
	flags uint32
	modes []mode
}
type dev struct {
	driver, card, bus string
	caps, devcaps     uint32
	typ               uint32
	fmts              []fmtd
	stepwise          bool
}

func cc(s string) uint32 { return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24 }

func (d dev) ioctl(req uint32, b []byte) error {
	le := binary.LittleEndian
	switch req & 0xff {
	case 0:
		copy(b[0:16], d.driver)
		copy(b[16:48], d.card)
		copy(b[48:80], d.bus)
		le.PutUint32(b[80:], 0x00060100)
		le.PutUint32(b[84:], d.caps)
		le.PutUint32(b[88:], d.devcaps)
		return nil
	case 2:
		i, t := le.Uint32(b), le.Uint32(b[4:])
		if t != d.typ || int(i) >= len(d.fmts) {
			return syscall.EINVAL
		}
		f := d.fmts[i]
		le.PutUint32(b[8:], f.flags)
		copy(b[12:44], f.desc)
		le.PutUint32(b[44:], cc(f.pix))
		return nil
	case 74:
		i, pix := le.Uint32(b), le.Uint32(b[4:])
		for _, f := range d.fmts {
			if cc(f.pix) != pix {
				continue
			}
			if d.stepwise {
				if i > 0 {
					return syscall.EINVAL
				}
				le.PutUint32(b[8:], 3)
				for k, v := range []uint32{48, 8192, 2, 32, 8192, 2} {
					le.PutUint32(b[12+4*k:], v)
				}
				return nil
			}
			if int(i) >= len(f.modes) {
				return syscall.EINVAL
			}
			le.PutUint32(b[8:], 1)
			le.PutUint32(b[12:], f.modes[i].w)
			le.PutUint32(b[16:], f.modes[i].h)
			return nil
		}
		return syscall.EINVAL
	case 75:
		i, pix, w, h := le.Uint32(b), le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[12:])
		for _, f := range d.fmts {
			if cc(f.pix) != pix {
				continue
			}
			for _, m := range f.modes {
				if m.w == w && m.h == h && int(i) < len(m.ivals) {
					le.PutUint32(b[16:], 1)
					le.PutUint32(b[20:], m.ivals[i][0])
					le.PutUint32(b[24:], m.ivals[i][1])
					return nil
				}
			}
		}
		return syscall.EINVAL
	}
	return syscall.ENOTTY
}

func main() {
	r := [][2]uint32{{1, 30}, {1, 24}, {1, 15}}
	slow := [][2]uint32{{1, 10}, {1, 5}}
	uvc := dev{driver: "uvcvideo", card: "HD Pro Webcam C920", bus: "usb-0000:00:14.0-1",
		caps: 0x84a00001, devcaps: 0x04200001, typ: 1, fmts: []fmtd{
			{"YUYV", "YUYV 4:2:2", 0, []mode{{640, 480, r}, {1280, 720, slow}, {1920, 1080, [][2]uint32{{1, 5}}}}},
			{"MJPG", "Motion-JPEG", 1, []mode{{640, 480, r}, {1280, 720, r}, {1920, 1080, r}}},
		}}
	meta := dev{driver: "uvcvideo", card: "HD Pro Webcam C920", bus: "usb-0000:00:14.0-1",
		caps: 0x84a00001, devcaps: 0x04a00000, typ: 1}
	loop := dev{driver: "v4l2 loopback", card: "Scope", bus: "platform:v4l2loopback-000",
		caps: 0x85208002, devcaps: 0x05208002, typ: 2, stepwise: true, fmts: []fmtd{{"YU12", "Planar YUV 4:2:0", 0, nil}}}
	for name, d := range map[string]dev{"c920-video0": uvc, "c920-video1-meta": meta, "loopback-video10": loop} {
		path := map[string]string{"c920-video0": "/dev/video0", "c920-video1-meta": "/dev/video1", "loopback-video10": "/dev/video10"}[name]
		t := &v4l2.Transcript{Path: path}
		if _, err := v4l2.Probe(path, t.Record(d.ioctl)); err != nil {
			panic(err)
		}
		b, _ := json.MarshalIndent(t, "", " ")
		os.WriteFile("v4l2/testdata/"+name+".json", append(b, '\n'), 0o644)
	}
}
