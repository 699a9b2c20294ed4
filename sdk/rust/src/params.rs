//! [`Params`]: typed access to the parameter values the host passes.

use crate::schema::{ParamKind, ParamType, Schema};
use crate::sys;
use core::ffi::CStr;

/// One parameter value, as [`Params::get`] returns it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// A BOOL value.
    Bool(bool),
    /// An INT value.
    Int(i64),
    /// A FLOAT value.
    Float(f64),
    /// A STRING value.
    String(&'a str),
    /// An ENUM value: the key of one option.
    Enum(&'a str),
    /// A COLOR value: RGBA, each 0..1.
    Color([f32; 4]),
}

/// The parameter values of one create(), prepare() or call(), valid during it.
///
/// Every accessor returns the value the host passed (the host validates values against the
/// schema before the plugin sees them) or, when the host passed none for that key, the default
/// from the [`Schema`].
///
/// Accessors panic when the key is not a parameter of the schema, or names a parameter of
/// another type: that is a bug in the plugin, and the SDK turns the panic into an error for the
/// call (`"panic: parameter \"x\" is not in the schema..."`).
#[derive(Clone, Copy)]
pub struct Params<'a> {
    values: &'a [sys::scope_value],
    schema: &'a Schema,
}

impl core::fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map()
            .entries(
                self.schema
                    .params()
                    .iter()
                    .map(|p| (p.key(), self.get(p.key()))),
            )
            .finish()
    }
}

impl<'a> Params<'a> {
    /// Values for `schema`.
    ///
    /// # Safety
    /// `values` must be valid (every `key` NULL or NUL-terminated, STRING/ENUM values NULL or
    /// NUL-terminated) and unmodified for `'a`.
    pub(crate) unsafe fn new(values: &'a [sys::scope_value], schema: &'a Schema) -> Params<'a> {
        Params { values, schema }
    }

    /// The schema these values belong to.
    pub fn schema(&self) -> &'a Schema {
        self.schema
    }

    /// A FLOAT parameter's value (an INT parameter is converted).
    ///
    /// # Panics
    /// If `key` is not a FLOAT or INT parameter of the schema.
    pub fn float(&self, key: &str) -> f64 {
        match self.lookup(key, &[ParamType::Float, ParamType::Int]) {
            Value::Float(v) => v,
            Value::Int(v) => v as f64,
            _ => unreachable!(),
        }
    }

    /// An INT parameter's value.
    ///
    /// # Panics
    /// If `key` is not an INT parameter of the schema.
    pub fn int(&self, key: &str) -> i64 {
        match self.lookup(key, &[ParamType::Int]) {
            Value::Int(v) => v,
            _ => unreachable!(),
        }
    }

    /// A BOOL parameter's value.
    ///
    /// # Panics
    /// If `key` is not a BOOL parameter of the schema.
    pub fn bool(&self, key: &str) -> bool {
        match self.lookup(key, &[ParamType::Bool]) {
            Value::Bool(v) => v,
            _ => unreachable!(),
        }
    }

    /// A STRING parameter's text (an ENUM parameter's key is returned as well).
    ///
    /// # Panics
    /// If `key` is not a STRING or ENUM parameter of the schema.
    pub fn string(&self, key: &str) -> &'a str {
        match self.lookup(key, &[ParamType::String, ParamType::Enum]) {
            Value::String(v) | Value::Enum(v) => v,
            _ => unreachable!(),
        }
    }

    /// An ENUM parameter's value: the key of the chosen option.
    ///
    /// # Panics
    /// If `key` is not an ENUM parameter of the schema.
    pub fn enum_key(&self, key: &str) -> &'a str {
        match self.lookup(key, &[ParamType::Enum]) {
            Value::Enum(v) => v,
            _ => unreachable!(),
        }
    }

    /// A COLOR parameter's RGBA, each 0..1.
    ///
    /// # Panics
    /// If `key` is not a COLOR parameter of the schema.
    pub fn color(&self, key: &str) -> [f32; 4] {
        match self.lookup(key, &[ParamType::Color]) {
            Value::Color(v) => v,
            _ => unreachable!(),
        }
    }

    /// The value of any parameter of the schema, or `None` if `key` is not one. Never panics.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        let index = self.schema.params().iter().position(|p| p.key() == key)?;
        Some(self.value_at(index))
    }

    fn lookup(&self, key: &str, types: &[ParamType]) -> Value<'a> {
        let Some(index) = self.schema.params().iter().position(|p| p.key() == key) else {
            panic!(
                "parameter {key:?} is not in the schema of pipeline {:?}",
                self.schema.id()
            );
        };
        let t = self.schema.params()[index].param_type();
        if !types.contains(&t) {
            panic!("parameter {key:?} is a {t:?} parameter, not {:?}", types[0]);
        }
        self.value_at(index)
    }

    /// The host's value for schema parameter `index`, or its default.
    fn value_at(&self, index: usize) -> Value<'a> {
        let param = &self.schema.params()[index];
        let key = param.key().as_bytes();
        // values[i] belongs to params[i]; look further only if the host broke that promise.
        let found = self
            .values
            .get(index)
            .filter(|v| key_is(v, key))
            .or_else(|| self.values.iter().find(|v| key_is(v, key)));
        let from_host = found.and_then(|v| {
            if v.type_ != param.param_type().code() {
                return None;
            }
            // SAFETY: the union member read is the one `type_` names (checked just above), and
            // string pointers are NUL-terminated and valid for 'a (see new()).
            unsafe {
                Some(match param.param_type() {
                    ParamType::Bool => Value::Bool(v.as_.b != 0),
                    ParamType::Int => Value::Int(v.as_.i),
                    ParamType::Float => Value::Float(v.as_.f),
                    ParamType::String => Value::String(c_text(v.as_.s)?),
                    ParamType::Enum => Value::Enum(c_text(v.as_.s)?),
                    ParamType::Color => Value::Color(v.as_.color),
                })
            }
        });
        from_host.unwrap_or_else(|| default_of(&param.kind))
    }
}

/// Whether a host value carries this key.
fn key_is(v: &sys::scope_value, key: &[u8]) -> bool {
    if v.key.is_null() {
        return false;
    }
    // SAFETY: non-NULL keys are NUL-terminated strings valid during the call (Params::new).
    unsafe { CStr::from_ptr(v.key) }.to_bytes() == key
}

/// A NUL-terminated UTF-8 string from the host; `None` for NULL or invalid UTF-8.
///
/// # Safety
/// `p` must be NULL or a NUL-terminated string valid for `'a`.
unsafe fn c_text<'a>(p: *const core::ffi::c_char) -> Option<&'a str> {
    if p.is_null() {
        return None;
    }
    // SAFETY: guaranteed by the caller.
    unsafe { CStr::from_ptr(p) }.to_str().ok()
}

fn default_of(kind: &ParamKind) -> Value<'_> {
    match kind {
        ParamKind::Bool { default } => Value::Bool(*default),
        ParamKind::Int { default, .. } => Value::Int(default.unwrap_or(0)),
        ParamKind::Float { default, .. } => Value::Float(default.unwrap_or(0.0)),
        ParamKind::String { default } => Value::String(default),
        ParamKind::Enum { default, .. } => Value::Enum(default.as_deref().unwrap_or("")),
        ParamKind::Color { default } => Value::Color(*default),
    }
}
