package frame

import "testing"

var hd = Format{Width: 1920, Height: 1080, Channels: 3, Elem: U8}

func benchConvert(b *testing.B, dstF, srcF Format) {
	src, dst := New(srcF), New(dstF)
	if srcF.Elem == U8 {
		fill(src, 1)
	} else {
		tmp := New(Format{srcF.Width, srcF.Height, srcF.Channels, U8})
		fill(tmp, 1)
		if err := Convert(src, tmp); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(srcF.Width * srcF.Height))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := Convert(dst, src); err != nil {
			b.Fatal(err)
		}
	}
}

// SetBytes is pixels per frame, so "MB/s" reads as megapixels per second.

func BenchmarkConvertRGBU8toF32(b *testing.B) {
	benchConvert(b, Format{1920, 1080, 3, F32}, hd)
}

func BenchmarkConvertRGBF32toU8(b *testing.B) {
	benchConvert(b, hd, Format{1920, 1080, 3, F32})
}

func BenchmarkConvertRGBU8toRGBAF32(b *testing.B) {
	benchConvert(b, Format{1920, 1080, 4, F32}, hd)
}

func BenchmarkConvertRGBAF32toRGBU8(b *testing.B) {
	benchConvert(b, hd, Format{1920, 1080, 4, F32})
}

func BenchmarkConvertRGBU8toRGBAU8(b *testing.B) {
	benchConvert(b, Format{1920, 1080, 4, U8}, hd)
}

func BenchmarkConvertCopyRGBU8(b *testing.B) {
	benchConvert(b, hd, hd)
}
