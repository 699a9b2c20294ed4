//! Scope Native example plugin in Rust, built on the `scope-plugin` SDK.
//!
//! Pipelines:
//! - `invert-rust`, "Invert Colors (Rust)": the C `invert` example, byte for byte. A 256-entry
//!   table, rebuilt when the intensity changes, maps each color sample `v` to
//!   `floor(v*(1-i) + (255-v)*i + 0.5)` computed in `f64`; a 4th (alpha) channel is copied.
//! - `panic-test`, only with the `test-pipelines` feature (the cross-language tests): panics in
//!   `call()` while its `panic` parameter is true, to prove that a panic fails one frame with
//!   `SCOPE_ERROR` and the host survives.
//!
//! There is no `unsafe` here: the SDK holds all of it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use scope_plugin::prelude::*;

/// Inverts the colors of its input, by `intensity` (0 = original, 1 = fully inverted).
pub struct Invert {
    /// `table[v]` is the output for input sample `v`.
    table: [u8; 256],
    /// The intensity `table` was built for.
    built_for: Option<f64>,
}

impl Invert {
    /// The output for input sample `v` at intensity `i`, exactly as the C example computes it.
    pub fn invert_sample(v: u8, i: f64) -> u8 {
        let v = f64::from(v);
        (v * (1.0 - i) + (255.0 - v) * i + 0.5).floor() as u8
    }

    /// Rebuilds the table if `intensity` changed since the last call. Like the C example, it
    /// clamps to 0..1 and treats NaN as 0 (the host validates values, so this is belt and
    /// braces).
    fn update_table(&mut self, intensity: f64) {
        let intensity = if intensity >= 0.0 {
            intensity.min(1.0)
        } else {
            0.0
        };
        if self.built_for.map(f64::to_bits) == Some(intensity.to_bits()) {
            return;
        }
        for (v, out) in self.table.iter_mut().enumerate() {
            *out = Invert::invert_sample(v as u8, intensity);
        }
        self.built_for = Some(intensity);
    }
}

/// Fails unless `channels` is one this example handles.
fn check_channels(channels: u32) -> Result<(), Error> {
    match channels {
        1 | 3 | 4 => Ok(()),
        n => Err(Error::unsupported(format!(
            "input has {n} channels; want 1, 3 or 4"
        ))),
    }
}

/// Fails unless the output has the input's shape and both hold u8 samples in host memory.
fn check_same_shape(input: &Frame<'_>, output: &OutputFrame<'_>) -> Result<(), Error> {
    if input.element_type() != ElementType::U8 || output.element_type() != ElementType::U8 {
        return Err(Error::unsupported("only u8 frames are supported"));
    }
    if input.memory() != MemoryKind::Host || output.memory() != MemoryKind::Host {
        return Err(Error::unsupported("only host memory is supported"));
    }
    let (i, o) = (input.format(), output.format());
    if (i.width, i.height, i.channels) != (o.width, o.height, o.channels) {
        return Err(Error::invalid_argument(format!(
            "output is {}x{}x{}, input {}x{}x{}",
            o.width, o.height, o.channels, i.width, i.height, i.channels
        )));
    }
    check_channels(i.channels)
}

impl Pipeline for Invert {
    fn schema() -> Schema {
        Schema::new("invert-rust", "Invert Colors (Rust)")
            .description("Inverts the colors of the input video (the C invert example, in Rust).")
            .mode(ModeDesc::video().input_size(1))
            .param(
                Param::float("intensity")
                    .label("Intensity")
                    .range(0.0, 1.0)
                    .default(1.0)
                    .description(
                        "How strongly to invert the colors (0 = original, 1 = fully inverted)",
                    ),
            )
    }

    fn create(_ctx: &CreateContext<'_>) -> Result<Self, Error> {
        Ok(Invert {
            table: [0; 256],
            built_for: None,
        })
    }

    fn prepare(&mut self, ctx: &PrepareContext<'_>) -> Result<Requirements, Error> {
        if let Some(format) = ctx.input() {
            check_channels(format.channels)?;
        }
        // One u8 frame in host memory in, the same out (shaped like the input: the default).
        Ok(Requirements {
            input_size: 1,
            output_element_type: Some(ElementType::U8),
            output_memory: Some(MemoryKind::Host),
            input_element_type: Some(ElementType::U8),
            input_memory: Some(MemoryKind::Host),
            ..Requirements::default()
        })
    }

    fn call(&mut self, ctx: &mut CallContext<'_>) -> Result<(), Error> {
        self.update_table(ctx.params().float("intensity"));
        let host = ctx.host();
        let input = ctx.input()?;
        let mut output = ctx.output_mut()?;
        check_same_shape(&input, &output)?;

        // Rows split across the host's thread pool. At intensity 1 (the default) a row is a
        // plain 255 - v (v ^ 0xFF) over two slices the compiler knows are distinct, so it
        // vectorises; other intensities look bytes up in the table.
        let table = &self.table;
        let alpha = input.channels() == 4;
        let full = self.built_for == Some(1.0);
        let grain = (65536 / input.row_bytes().max(1)) as u32 + 1;
        output.par_rows_mut(&host, grain, |y, dst| {
            let src = input.row(y);
            if alpha {
                for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
                    d[0] = table[usize::from(s[0])];
                    d[1] = table[usize::from(s[1])];
                    d[2] = table[usize::from(s[2])];
                    d[3] = s[3];
                }
            } else if full {
                for (d, s) in dst.iter_mut().zip(src) {
                    *d = *s ^ 0xFF;
                }
            } else {
                for (d, s) in dst.iter_mut().zip(src) {
                    *d = table[usize::from(*s)];
                }
            }
        });
        Ok(())
    }
}

/// Panics in `call()` while its `panic` parameter is true; otherwise copies its input. A
/// test-only pipeline (the `test-pipelines` feature): it panics on purpose, so the shipped
/// library leaves it out.
#[cfg(feature = "test-pipelines")]
pub struct PanicTest;

#[cfg(feature = "test-pipelines")]
impl Pipeline for PanicTest {
    fn schema() -> Schema {
        Schema::new("panic-test", "Panic Test (Rust)")
            .description("Panics in call() while `panic` is on, to test that the host survives.")
            .mode(ModeDesc::video().input_size(1))
            .param(
                Param::bool("panic")
                    .label("Panic")
                    .default(false)
                    .description("Panic in every call while on (off, the default, copies the input)"),
            )
    }

    fn create(_ctx: &CreateContext<'_>) -> Result<Self, Error> {
        Ok(PanicTest)
    }

    fn call(&mut self, ctx: &mut CallContext<'_>) -> Result<(), Error> {
        if ctx.params().bool("panic") {
            panic!("panic-test was asked to panic (call {})", ctx.call_index());
        }
        let input = ctx.input()?;
        let mut output = ctx.output_mut()?;
        check_same_shape(&input, &output)?;
        for y in 0..input.height() {
            output.row_mut(y).copy_from_slice(input.row(y));
        }
        Ok(())
    }
}

#[cfg(not(feature = "test-pipelines"))]
scope_plugin::export_plugin!(
    name: "invert-rust",
    version: "1.0.0",
    description: "Rust example: Invert Colors.",
    pipelines: [Invert],
);

#[cfg(feature = "test-pipelines")]
scope_plugin::export_plugin!(
    name: "invert-rust",
    version: "1.0.0",
    description: "Rust example: Invert Colors, with a panic test (test-pipelines feature).",
    pipelines: [Invert, PanicTest],
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_c_formula() {
        for v in 0..=255u8 {
            assert_eq!(Invert::invert_sample(v, 1.0), 255 - v);
            assert_eq!(Invert::invert_sample(v, 0.0), v);
        }
        // Half intensity lands on 128 for every v: v/2 + (255-v)/2 + 0.5 = 128.
        assert_eq!(Invert::invert_sample(0, 0.5), 128);
        assert_eq!(Invert::invert_sample(255, 0.5), 128);
    }

    #[test]
    fn schemas_are_valid() {
        assert!(Invert::schema().validate().is_ok());
        #[cfg(feature = "test-pipelines")]
        assert!(PanicTest::schema().validate().is_ok());
    }
}
