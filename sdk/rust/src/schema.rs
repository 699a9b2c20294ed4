//! What a pipeline is: [`Schema`] (identity, modes, flags) and its parameters ([`Param`]).
//!
//! A schema is plain data built with chained methods; the SDK turns it into the C descriptor
//! (`scope_pipeline_desc`) when the host registers the plugin, after checking it with
//! [`Schema::validate`]. A schema that fails validation makes registration fail with a message
//! naming the pipeline and the problem.
//!
//! ```
//! use scope_plugin::{Category, Mode, ModeDesc, Param, Schema};
//!
//! let schema = Schema::new("invert-rust", "Invert Colors (Rust)")
//!     .description("Inverts the colors of the input video.")
//!     .mode(ModeDesc::video().input_size(1))
//!     .param(
//!         Param::float("intensity")
//!             .label("Intensity")
//!             .range(0.0, 1.0)
//!             .default(1.0)
//!             .description("How strongly to invert the colors"),
//!     )
//!     .param(
//!         Param::enumeration("channel")
//!             .option("all", "All channels")
//!             .option("red", "Red only")
//!             .default("all")
//!             .category(Category::Input),
//!     );
//! assert!(schema.validate().is_ok());
//! assert_eq!(schema.modes()[0].mode(), Mode::Video);
//! ```

use crate::error::Error;
use crate::sys;

/// A pipeline mode (`SCOPE_MODE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// No video input: the pipeline generates frames.
    Text,
    /// Input frames are transformed.
    Video,
}

impl Mode {
    /// The `SCOPE_MODE_*` bit.
    pub const fn bits(self) -> u32 {
        match self {
            Mode::Text => sys::SCOPE_MODE_TEXT,
            Mode::Video => sys::SCOPE_MODE_VIDEO,
        }
    }

    /// The mode for a `SCOPE_MODE_*` value; `None` for anything else.
    pub const fn from_bits(bits: u32) -> Option<Mode> {
        match bits {
            sys::SCOPE_MODE_TEXT => Some(Mode::Text),
            sys::SCOPE_MODE_VIDEO => Some(Mode::Video),
            _ => None,
        }
    }
}

/// A memory kind (`SCOPE_MEMORY_*`): where frame data lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemoryKind {
    /// Ordinary CPU memory.
    Host,
    /// CUDA device memory in the device's primary context.
    Cuda,
}

impl MemoryKind {
    /// The `SCOPE_MEMORY_*` bit.
    pub const fn bits(self) -> u32 {
        match self {
            MemoryKind::Host => sys::SCOPE_MEMORY_HOST,
            MemoryKind::Cuda => sys::SCOPE_MEMORY_CUDA,
        }
    }

    /// The kind for a `SCOPE_MEMORY_*` value; `None` for anything else.
    pub const fn from_bits(bits: u32) -> Option<MemoryKind> {
        match bits {
            sys::SCOPE_MEMORY_HOST => Some(MemoryKind::Host),
            sys::SCOPE_MEMORY_CUDA => Some(MemoryKind::Cuda),
            _ => None,
        }
    }
}

/// How the host may call instances of a pipeline from several threads (`SCOPE_THREADING_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Threading {
    /// Different instances may run concurrently; one instance is never called concurrently.
    /// The default.
    #[default]
    Instance,
    /// All instances share state: the host never calls two at once.
    Serial,
}

/// Defaults for one mode a pipeline supports (`scope_mode_desc`).
#[derive(Debug, Clone, PartialEq)]
pub struct ModeDesc {
    mode: Mode,
    is_default: bool,
    width: u32,
    height: u32,
    input_size: u32,
}

impl ModeDesc {
    /// Video mode: input frames are transformed. Input size defaults to 1 frame per call,
    /// output size to the input's.
    pub fn video() -> ModeDesc {
        ModeDesc {
            mode: Mode::Video,
            is_default: false,
            width: 0,
            height: 0,
            input_size: 1,
        }
    }

    /// Text mode: no video input, the pipeline generates frames. Give it a size with
    /// [`ModeDesc::size`].
    pub fn text() -> ModeDesc {
        ModeDesc {
            mode: Mode::Text,
            is_default: false,
            width: 0,
            height: 0,
            input_size: 0,
        }
    }

    /// Default frames per call in this mode (must be 0 in text mode).
    pub fn input_size(mut self, frames: u32) -> ModeDesc {
        self.input_size = frames;
        self
    }

    /// Default output size in this mode; 0 = follow the input.
    pub fn size(mut self, width: u32, height: u32) -> ModeDesc {
        self.width = width;
        self.height = height;
        self
    }

    /// Makes this the mode used when the user names none. When no mode of a schema is marked,
    /// the first one is the default.
    pub fn default_mode(mut self) -> ModeDesc {
        self.is_default = true;
        self
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether this is the default mode (after [`Schema::validate`] rules: see
    /// [`ModeDesc::default_mode`]).
    pub fn is_default(&self) -> bool {
        self.is_default
    }

    /// Default output width; 0 = follow the input.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Default output height; 0 = follow the input.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Default frames per call.
    pub fn frames_per_call(&self) -> u32 {
        self.input_size
    }
}

/// Where a control appears (`SCOPE_CATEGORY_*`, Scope's ui category).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Category {
    /// The settings panel. The default.
    #[default]
    Configuration,
    /// The input & controls panel.
    Input,
}

impl Category {
    fn bits(self) -> u32 {
        match self {
            Category::Configuration => sys::SCOPE_CATEGORY_CONFIGURATION,
            Category::Input => sys::SCOPE_CATEGORY_INPUT,
        }
    }
}

/// A parameter's type (`SCOPE_PARAM_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamType {
    /// On/off.
    Bool,
    /// A 64-bit integer within a range.
    Int,
    /// A double within a range.
    Float,
    /// UTF-8 text.
    String,
    /// The key of one of a fixed set of options.
    Enum,
    /// RGBA, each 0..1.
    Color,
}

impl ParamType {
    /// The `SCOPE_PARAM_*` value.
    pub const fn code(self) -> u32 {
        match self {
            ParamType::Bool => sys::SCOPE_PARAM_BOOL,
            ParamType::Int => sys::SCOPE_PARAM_INT,
            ParamType::Float => sys::SCOPE_PARAM_FLOAT,
            ParamType::String => sys::SCOPE_PARAM_STRING,
            ParamType::Enum => sys::SCOPE_PARAM_ENUM,
            ParamType::Color => sys::SCOPE_PARAM_COLOR,
        }
    }
}

/// One option of an enum parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumOption {
    /// Stable key stored in settings and passed as the value.
    pub key: String,
    /// Text for the UI; `None` = the key.
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ParamKind {
    Bool {
        default: bool,
    },
    Int {
        min: i64,
        max: i64,
        step: i64,
        default: Option<i64>,
    },
    Float {
        min: f64,
        max: f64,
        step: f64,
        default: Option<f64>,
    },
    String {
        default: String,
    },
    Enum {
        options: Vec<EnumOption>,
        default: Option<String>,
    },
    Color {
        default: [f32; 4],
    },
}

/// Describes one parameter (`scope_param_desc`). Build one with [`Param::float`],
/// [`Param::int`], [`Param::bool`], [`Param::string`], [`Param::enumeration`] or
/// [`Param::color`] and pass it to [`Schema::param`].
///
/// Keys are stable: hosts store settings by key. The host validates every value against this
/// description before the plugin sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub(crate) key: String,
    pub(crate) label: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) flags: u32,
    pub(crate) category: Category,
    pub(crate) order: i32,
    pub(crate) modes: u32,
    pub(crate) kind: ParamKind,
}

impl Param {
    fn with_kind(key: &str, kind: ParamKind) -> Param {
        Param {
            key: key.to_owned(),
            label: None,
            description: None,
            flags: 0,
            category: Category::Configuration,
            order: 0,
            modes: 0,
            kind,
        }
    }

    /// A FLOAT parameter (a slider). Unless set, the range is 0..1 and the default is the
    /// value in the range closest to 0.
    pub fn float(key: &str) -> FloatParam {
        FloatParam(Param::with_kind(
            key,
            ParamKind::Float {
                min: 0.0,
                max: 1.0,
                step: 0.0,
                default: None,
            },
        ))
    }

    /// An INT parameter. Unless set, the range is 0..100, the step 1 and the default the value
    /// in the range closest to 0.
    pub fn int(key: &str) -> IntParam {
        IntParam(Param::with_kind(
            key,
            ParamKind::Int {
                min: 0,
                max: 100,
                step: 1,
                default: None,
            },
        ))
    }

    /// A BOOL parameter, default `false` unless set.
    pub fn bool(key: &str) -> BoolParam {
        BoolParam(Param::with_kind(key, ParamKind::Bool { default: false }))
    }

    /// A STRING parameter (a prompt, a path...), default `""` unless set.
    pub fn string(key: &str) -> StringParam {
        StringParam(Param::with_kind(
            key,
            ParamKind::String {
                default: String::new(),
            },
        ))
    }

    /// An ENUM parameter: one of a fixed set of option keys (never an index). Add options with
    /// [`EnumParam::option`]; the default is the first option unless set.
    pub fn enumeration(key: &str) -> EnumParam {
        EnumParam(Param::with_kind(
            key,
            ParamKind::Enum {
                options: Vec::new(),
                default: None,
            },
        ))
    }

    /// A COLOR parameter (RGBA, each 0..1), default opaque black unless set.
    pub fn color(key: &str) -> ColorParam {
        ColorParam(Param::with_kind(
            key,
            ParamKind::Color {
                default: [0.0, 0.0, 0.0, 1.0],
            },
        ))
    }

    /// The stable key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The UI label, if set.
    pub fn label_text(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// The description, if set.
    pub fn description_text(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The type.
    pub fn param_type(&self) -> ParamType {
        match self.kind {
            ParamKind::Bool { .. } => ParamType::Bool,
            ParamKind::Int { .. } => ParamType::Int,
            ParamKind::Float { .. } => ParamType::Float,
            ParamKind::String { .. } => ParamType::String,
            ParamKind::Enum { .. } => ParamType::Enum,
            ParamKind::Color { .. } => ParamType::Color,
        }
    }

    /// Whether the parameter is load-time (passed to create(); a change means a new instance).
    pub fn is_load_time(&self) -> bool {
        self.flags & sys::SCOPE_PARAM_LOAD_TIME != 0
    }

    /// Whether the parameter is hidden from user interfaces.
    pub fn is_hidden(&self) -> bool {
        self.flags & sys::SCOPE_PARAM_HIDDEN != 0
    }

    pub(crate) fn category_bits(&self) -> u32 {
        self.category.bits()
    }

    /// Fills in defaults left unset (numbers: closest to 0 in range; enum: first option).
    pub(crate) fn resolve(&mut self) {
        match &mut self.kind {
            ParamKind::Int {
                min,
                max,
                default: default @ None,
                ..
            } => {
                *default = Some(0i64.clamp(*min, (*max).max(*min)));
            }
            ParamKind::Float {
                min,
                max,
                default: default @ None,
                ..
            } if min.is_finite() && max.is_finite() => {
                *default = Some(0f64.clamp(*min, max.max(*min)));
            }
            ParamKind::Enum {
                options,
                default: default @ None,
            } => {
                *default = options.first().map(|o| o.key.clone());
            }
            _ => {}
        }
    }

    fn validate(&self) -> Result<(), String> {
        let k = &self.key;
        if k.is_empty()
            || !k
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
        {
            return Err(format!("parameter key {k:?} must match [a-z0-9_.-]+"));
        }
        check_text(&format!("parameter {k:?} label"), self.label.as_deref())?;
        check_text(
            &format!("parameter {k:?} description"),
            self.description.as_deref(),
        )?;
        match &self.kind {
            ParamKind::Bool { .. } => {}
            ParamKind::Int {
                min,
                max,
                step,
                default,
            } => {
                const EXACT: i64 = 1 << 53;
                for v in [min, max] {
                    if !(-EXACT..=EXACT).contains(v) {
                        return Err(format!(
                            "parameter {k:?}: range bound {v} is not exact as a double (|v| > 2^53)"
                        ));
                    }
                }
                if min > max {
                    return Err(format!("parameter {k:?}: min {min} > max {max}"));
                }
                if *step < 0 {
                    return Err(format!("parameter {k:?}: step {step} is negative"));
                }
                if let Some(d) = default {
                    if d < min || d > max {
                        return Err(format!(
                            "parameter {k:?}: default {d} is outside {min}..{max}"
                        ));
                    }
                }
            }
            ParamKind::Float {
                min,
                max,
                step,
                default,
            } => {
                if !min.is_finite() || !max.is_finite() || min > max {
                    return Err(format!(
                        "parameter {k:?}: range {min}..{max} must be finite with min <= max"
                    ));
                }
                if !step.is_finite() || *step < 0.0 {
                    return Err(format!(
                        "parameter {k:?}: step {step} must be finite and >= 0"
                    ));
                }
                if let Some(d) = default {
                    if !d.is_finite() || d < min || d > max {
                        return Err(format!(
                            "parameter {k:?}: default {d} is outside {min}..{max}"
                        ));
                    }
                }
            }
            ParamKind::String { default } => {
                check_text(&format!("parameter {k:?} default"), Some(default))?;
            }
            ParamKind::Enum { options, default } => {
                if options.is_empty() {
                    return Err(format!("enum parameter {k:?} has no options"));
                }
                for (i, o) in options.iter().enumerate() {
                    if o.key.is_empty() {
                        return Err(format!("enum parameter {k:?}: option {i} has an empty key"));
                    }
                    check_text(&format!("enum parameter {k:?} option key"), Some(&o.key))?;
                    check_text(
                        &format!("enum parameter {k:?} option label"),
                        o.label.as_deref(),
                    )?;
                    if options[..i].iter().any(|p| p.key == o.key) {
                        return Err(format!(
                            "enum parameter {k:?}: option {:?} appears twice",
                            o.key
                        ));
                    }
                }
                if let Some(d) = default {
                    if !options.iter().any(|o| &o.key == d) {
                        return Err(format!(
                            "enum parameter {k:?}: default {d:?} is not an option"
                        ));
                    }
                }
            }
            ParamKind::Color { default } => {
                if !default.iter().all(|c| (0.0..=1.0).contains(c)) {
                    return Err(format!(
                        "color parameter {k:?}: default {default:?} is outside 0..1"
                    ));
                }
            }
        }
        Ok(())
    }
}

fn check_text(what: &str, text: Option<&str>) -> Result<(), String> {
    match text {
        Some(t) if t.contains('\0') => Err(format!("{what} contains a NUL byte")),
        _ => Ok(()),
    }
}

/// Builder methods every typed parameter builder shares.
macro_rules! common_param_methods {
    ($t:ident) => {
        impl $t {
            /// Short UI label; unset = the key.
            pub fn label(mut self, label: &str) -> $t {
                self.0.label = Some(label.to_owned());
                self
            }

            /// Tooltip / help text.
            pub fn description(mut self, description: &str) -> $t {
                self.0.description = Some(description.to_owned());
                self
            }

            /// Where the control appears; default [`Category::Configuration`].
            pub fn category(mut self, category: Category) -> $t {
                self.0.category = category;
                self
            }

            /// Display order; lower first. Default 0.
            pub fn order(mut self, order: i32) -> $t {
                self.0.order = order;
                self
            }

            /// The modes the parameter applies to; never called = every mode.
            pub fn modes(mut self, modes: impl IntoIterator<Item = Mode>) -> $t {
                self.0.modes = modes.into_iter().fold(0, |m, mode| m | mode.bits());
                self
            }

            /// Makes it a load-time parameter: passed to create() only, shown but disabled
            /// while streaming; changing it means a new instance.
            pub fn load_time(mut self) -> $t {
                self.0.flags |= sys::SCOPE_PARAM_LOAD_TIME;
                self
            }

            /// Hides it from user interfaces.
            pub fn hidden(mut self) -> $t {
                self.0.flags |= sys::SCOPE_PARAM_HIDDEN;
                self
            }
        }

        impl From<$t> for Param {
            fn from(p: $t) -> Param {
                p.0
            }
        }
    };
}

/// Builder of a FLOAT parameter; see [`Param::float`].
#[derive(Debug, Clone, PartialEq)]
pub struct FloatParam(Param);
common_param_methods!(FloatParam);

impl FloatParam {
    /// Lowest and highest allowed values (finite, `min <= max`).
    pub fn range(mut self, min: f64, max: f64) -> FloatParam {
        if let ParamKind::Float { min: a, max: b, .. } = &mut self.0.kind {
            *a = min;
            *b = max;
        }
        self
    }

    /// UI step; 0 (the default) = continuous.
    pub fn step(mut self, step: f64) -> FloatParam {
        if let ParamKind::Float { step: s, .. } = &mut self.0.kind {
            *s = step;
        }
        self
    }

    /// The default value (within the range).
    pub fn default(mut self, value: f64) -> FloatParam {
        if let ParamKind::Float { default, .. } = &mut self.0.kind {
            *default = Some(value);
        }
        self
    }
}

/// Builder of an INT parameter; see [`Param::int`].
#[derive(Debug, Clone, PartialEq)]
pub struct IntParam(Param);
common_param_methods!(IntParam);

impl IntParam {
    /// Lowest and highest allowed values (`min <= max`, each within +-2^53).
    pub fn range(mut self, min: i64, max: i64) -> IntParam {
        if let ParamKind::Int { min: a, max: b, .. } = &mut self.0.kind {
            *a = min;
            *b = max;
        }
        self
    }

    /// UI step; default 1.
    pub fn step(mut self, step: i64) -> IntParam {
        if let ParamKind::Int { step: s, .. } = &mut self.0.kind {
            *s = step;
        }
        self
    }

    /// The default value (within the range).
    pub fn default(mut self, value: i64) -> IntParam {
        if let ParamKind::Int { default, .. } = &mut self.0.kind {
            *default = Some(value);
        }
        self
    }
}

/// Builder of a BOOL parameter; see [`Param::bool`].
#[derive(Debug, Clone, PartialEq)]
pub struct BoolParam(Param);
common_param_methods!(BoolParam);

impl BoolParam {
    /// The default value.
    pub fn default(mut self, value: bool) -> BoolParam {
        self.0.kind = ParamKind::Bool { default: value };
        self
    }
}

/// Builder of a STRING parameter; see [`Param::string`].
#[derive(Debug, Clone, PartialEq)]
pub struct StringParam(Param);
common_param_methods!(StringParam);

impl StringParam {
    /// The default text.
    pub fn default(mut self, value: &str) -> StringParam {
        self.0.kind = ParamKind::String {
            default: value.to_owned(),
        };
        self
    }
}

/// Builder of an ENUM parameter; see [`Param::enumeration`].
#[derive(Debug, Clone, PartialEq)]
pub struct EnumParam(Param);
common_param_methods!(EnumParam);

impl EnumParam {
    /// Adds an option with a stable key and a UI label.
    pub fn option(mut self, key: &str, label: &str) -> EnumParam {
        if let ParamKind::Enum { options, .. } = &mut self.0.kind {
            options.push(EnumOption {
                key: key.to_owned(),
                label: Some(label.to_owned()),
            });
        }
        self
    }

    /// Adds an option shown by its key.
    pub fn option_key(mut self, key: &str) -> EnumParam {
        if let ParamKind::Enum { options, .. } = &mut self.0.kind {
            options.push(EnumOption {
                key: key.to_owned(),
                label: None,
            });
        }
        self
    }

    /// The key of the default option; unset = the first option.
    pub fn default(mut self, key: &str) -> EnumParam {
        if let ParamKind::Enum { default, .. } = &mut self.0.kind {
            *default = Some(key.to_owned());
        }
        self
    }
}

/// Builder of a COLOR parameter; see [`Param::color`].
#[derive(Debug, Clone, PartialEq)]
pub struct ColorParam(Param);
common_param_methods!(ColorParam);

impl ColorParam {
    /// The default RGBA, each 0..1.
    pub fn default(mut self, rgba: [f32; 4]) -> ColorParam {
        self.0.kind = ParamKind::Color { default: rgba };
        self
    }
}

/// Everything the host learns about a pipeline before creating it: identity, modes,
/// parameters, flags. Returned by [`Pipeline::schema`](crate::Pipeline::schema).
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) author: Option<String>,
    pub(crate) docs_url: Option<String>,
    pub(crate) modes: Vec<ModeDesc>,
    pub(crate) params: Vec<Param>,
    pub(crate) flags: u32,
    pub(crate) memory: u32,
    pub(crate) threading: Threading,
    pub(crate) input_ports: Vec<String>,
}

impl Schema {
    /// A pipeline with a stable id (`[a-z0-9][a-z0-9_.-]*`, unique across plugins) and a human
    /// name. It needs at least one [`Schema::mode`].
    pub fn new(id: &str, name: &str) -> Schema {
        Schema {
            id: id.to_owned(),
            name: name.to_owned(),
            description: None,
            version: None,
            author: None,
            docs_url: None,
            modes: Vec::new(),
            params: Vec::new(),
            flags: 0,
            memory: 0,
            threading: Threading::Instance,
            input_ports: Vec::new(),
        }
    }

    /// One sentence saying what it does.
    pub fn description(mut self, description: &str) -> Schema {
        self.description = Some(description.to_owned());
        self
    }

    /// Pipeline version, e.g. "1.0.0"; unset = the plugin's version.
    pub fn version(mut self, version: &str) -> Schema {
        self.version = Some(version.to_owned());
        self
    }

    /// Author.
    pub fn author(mut self, author: &str) -> Schema {
        self.author = Some(author.to_owned());
        self
    }

    /// Documentation URL.
    pub fn docs_url(mut self, url: &str) -> Schema {
        self.docs_url = Some(url.to_owned());
        self
    }

    /// Adds a supported mode. The first one is the default unless one says
    /// [`ModeDesc::default_mode`].
    pub fn mode(mut self, mode: ModeDesc) -> Schema {
        self.modes.push(mode);
        self
    }

    /// Adds a parameter. Values reach the pipeline in this order.
    pub fn param(mut self, param: impl Into<Param>) -> Schema {
        self.params.push(param.into());
        self
    }

    /// The pipeline takes weighted text prompts (`SCOPE_PIPELINE_SUPPORTS_PROMPTS`).
    pub fn supports_prompts(mut self) -> Schema {
        self.flags |= sys::SCOPE_PIPELINE_SUPPORTS_PROMPTS;
        self
    }

    /// The pipeline writes audio beside its video (`SCOPE_PIPELINE_PRODUCES_AUDIO`).
    pub fn produces_audio(mut self) -> Schema {
        self.flags |= sys::SCOPE_PIPELINE_PRODUCES_AUDIO;
        self
    }

    /// The pipeline produces no video output (`SCOPE_PIPELINE_NO_VIDEO`, audio only).
    pub fn no_video(mut self) -> Schema {
        self.flags |= sys::SCOPE_PIPELINE_NO_VIDEO;
        self
    }

    /// The output depends on randomness or wall time, not only on inputs and parameters
    /// (`SCOPE_PIPELINE_NONDETERMINISTIC`): hosts and validators do not expect identical output
    /// for identical input.
    pub fn nondeterministic(mut self) -> Schema {
        self.flags |= sys::SCOPE_PIPELINE_NONDETERMINISTIC;
        self
    }

    /// The memory kinds the pipeline accepts; never called = host memory only.
    pub fn memory(mut self, kinds: impl IntoIterator<Item = MemoryKind>) -> Schema {
        self.memory = kinds.into_iter().fold(0, |m, k| m | k.bits());
        self
    }

    /// How instances may be called from several threads; default [`Threading::Instance`].
    pub fn threading(mut self, threading: Threading) -> Schema {
        self.threading = threading;
        self
    }

    /// Adds a named video input port. With none, the pipeline has one port, "video".
    pub fn input_port(mut self, name: &str) -> Schema {
        self.input_ports.push(name.to_owned());
        self
    }

    /// The stable id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The human name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The modes, in order.
    pub fn modes(&self) -> &[ModeDesc] {
        &self.modes
    }

    /// The parameters, in order.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The parameter with this key.
    pub fn find_param(&self, key: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.key == key)
    }

    /// The `SCOPE_PIPELINE_*` flags.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// Checks what the header requires of a descriptor: a well-formed id, a name, at least one
    /// mode with at most one marked default and no mode twice, unique well-formed parameter
    /// keys, finite ranges holding their defaults, enum options that are unique and contain
    /// the default, and no NUL byte in any text. Registration runs it and fails with its
    /// message; call it from a unit test to catch mistakes early.
    pub fn validate(&self) -> Result<(), Error> {
        self.check()
            .map_err(|m| Error::invalid_argument(format!("pipeline {:?}: {m}", self.id)))
    }

    fn check(&self) -> Result<(), String> {
        let id = self.id.as_bytes();
        let ok_byte = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if id.is_empty() || !ok_byte(&id[0]) || !id.iter().all(|b| ok_byte(b) || b"_.-".contains(b))
        {
            return Err("id must match [a-z0-9][a-z0-9_.-]*".into());
        }
        if self.name.is_empty() {
            return Err("name is empty".into());
        }
        for (what, text) in [
            ("name", Some(self.name.as_str())),
            ("description", self.description.as_deref()),
            ("version", self.version.as_deref()),
            ("author", self.author.as_deref()),
            ("docs_url", self.docs_url.as_deref()),
        ] {
            check_text(what, text)?;
        }
        for p in &self.input_ports {
            if p.is_empty() {
                return Err("an input port name is empty".into());
            }
            check_text("input port name", Some(p))?;
        }
        if self.modes.is_empty() {
            return Err("no modes: add ModeDesc::video() or ModeDesc::text()".into());
        }
        if self.modes.iter().filter(|m| m.is_default).count() > 1 {
            return Err("more than one mode is marked default_mode()".into());
        }
        for (i, m) in self.modes.iter().enumerate() {
            if self.modes[..i].iter().any(|n| n.mode == m.mode) {
                return Err(format!("mode {:?} appears twice", m.mode));
            }
            if m.mode == Mode::Text && m.input_size != 0 {
                return Err("text mode must have input_size 0".into());
            }
        }
        for (i, p) in self.params.iter().enumerate() {
            p.validate()?;
            if self.params[..i].iter().any(|q| q.key == p.key) {
                return Err(format!("parameter key {:?} appears twice", p.key));
            }
        }
        Ok(())
    }

    /// Validates, then fills in every default left unset (default mode, parameter defaults).
    pub(crate) fn resolve(mut self) -> Result<Schema, Error> {
        self.validate()?;
        if !self.modes.iter().any(|m| m.is_default) {
            self.modes[0].is_default = true;
        }
        for p in &mut self.params {
            p.resolve();
        }
        Ok(self)
    }
}
