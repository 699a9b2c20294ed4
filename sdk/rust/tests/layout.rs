//! Checks `scope_plugin::sys` against the real header, `include/scope/plugin.h`.
//!
//! The test reads the header to learn every struct (with every field, including the members of
//! `scope_value`'s anonymous union), every enum constant, every numeric or string `#define` and
//! every function-pointer typedef; compiles a C program (with `$CC`, default `cc`) that prints
//! their sizes, alignments, offsets and values; and compares with the Rust mirrors listed
//! below. It also reads `src/sys.rs` so that a mirror missing from the lists below is caught.
//! For every data pointer field (not `void *`, not a function pointer) it also compares the size
//! of what the pointer points at, so that `const scope_frame *const *frames` (an array of
//! pointers) cannot be mirrored as `*const scope_frame` (an array of frames): both are 8 bytes.
//! Every mismatch is reported, naming the struct and field.

use scope_plugin::sys;
use std::collections::BTreeMap;
use std::mem::{align_of, offset_of, size_of};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One Rust struct or union: name, size, alignment, fields as (C name, offset, size).
struct RustLayout {
    name: &'static str,
    size: usize,
    align: usize,
    fields: Vec<(String, usize, usize)>,
}

/// Size of the type a raw field pointer points at.
fn pointee_size<T>(_: *const T) -> usize {
    size_of::<T>()
}

/// The C name of a Rust field: keywords get a trailing underscore in Rust (`type_`, `as_`).
fn c_name(rust: &str) -> String {
    rust.strip_suffix('_').unwrap_or(rust).to_owned()
}

macro_rules! field_list {
    ($t:ident { $($f:ident),* $(,)? }) => {{
        let base = std::mem::MaybeUninit::<sys::$t>::uninit();
        let p = base.as_ptr();
        vec![$((
            c_name(stringify!($f)),
            offset_of!(sys::$t, $f),
            // SAFETY: addr_of! only computes the address of a field of a (never read) local.
            pointee_size(unsafe { std::ptr::addr_of!((*p).$f) }),
        )),*]
    }};
}

/// Structs: the destructuring pattern (without `..`) fails to compile if a field of the Rust
/// struct is missing from the list.
macro_rules! structs {
    ($($t:ident { $($f:ident),* $(,)? })*) => {{
        $(
            #[allow(dead_code)]
            fn $t(v: sys::$t) {
                let sys::$t { $($f: _),* } = v;
            }
        )*
        vec![$(RustLayout {
            name: stringify!($t),
            size: size_of::<sys::$t>(),
            align: align_of::<sys::$t>(),
            fields: field_list!($t { $($f),* }),
        }),*]
    }};
}

fn rust_layouts() -> Vec<RustLayout> {
    let mut v = structs! {
        scope_error { struct_size, capacity, message }
        scope_host { struct_size, abi_major, abi_minor, name, version, host_data, log, get_extension, parallel_for, worker_count, reserved }
        scope_frame_format { struct_size, width, height, channels, element_type, memory }
        scope_frame {
            struct_size, width, height, channels, element_type, memory, pitch, data, cuda_stream,
            cuda_device, flags, timestamp_us, index
        }
        scope_frame_list { frames, count, reserved }
        scope_audio { struct_size, sample_rate, channels, capacity_frames, frames, reserved, samples }
        scope_enum_option { struct_size, reserved, key, label }
        scope_param_desc {
            struct_size, type_, key, label, description, flags, category, order, modes, min_value,
            max_value, step, default_number, default_string, options, option_count, default_color,
            reserved
        }
        scope_value { key, type_, reserved, as_ }
        scope_params { struct_size, count, values }
        scope_prompt { text, weight, reserved }
        scope_mode_desc { struct_size, mode, is_default, width, height, input_size }
        scope_create_args { struct_size, mode, pipeline, params, cuda_device, reserved }
        scope_prepare_args { struct_size, mode, params, input_formats, input_port_count, reserved }
        scope_requirements {
            struct_size, input_size, output_width, output_height, output_channels,
            output_element_type, output_memory, input_element_type, input_memory, input_channels,
            audio_max_frames, reserved
        }
        scope_call {
            struct_size, flags, inputs, input_port_count, reserved, output, params, prompts,
            prompt_count, reserved2, audio, call_index, timestamp_us
        }
        scope_pipeline_desc {
            struct_size, flags, id, name, description, version, author, docs_url, modes,
            mode_count, memory, params, param_count, threading, input_ports, input_port_count,
            reserved, create, destroy, prepare, call
        }
        scope_plugin {
            struct_size, abi_major, abi_minor, name, version, description, register_pipelines,
            unregister_pipelines, pipeline_count, get_pipeline, get_extension
        }
    };
    // The anonymous union of scope_value; every member sits at offset 0.
    v.push(RustLayout {
        name: "scope_value_as",
        size: size_of::<sys::scope_value_as>(),
        align: align_of::<sys::scope_value_as>(),
        fields: field_list!(scope_value_as { i, f, b, s, color }),
    });
    v
}

/// A raw data pointer type, and the size of what it points at.
trait RawPtr {
    const POINTEE: usize;
}
impl<T> RawPtr for *const T {
    const POINTEE: usize = size_of::<T>();
}
impl<T> RawPtr for *mut T {
    const POINTEE: usize = size_of::<T>();
}

/// The pointee size of the raw pointer field at `field`.
fn pointee_of<P: RawPtr>(_field: *const P) -> usize {
    P::POINTEE
}

/// "struct.field" -> size of the pointee, for every data pointer field of the mirrors (every
/// pointer field except `void *` and function pointers; union members are left out). The
/// header's list is found by parsing, so a pointer field missing here is reported.
macro_rules! pointees {
    ($($t:ident { $($f:ident),* $(,)? })*) => {{
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        $($({
            let base = std::mem::MaybeUninit::<sys::$t>::uninit();
            let p = base.as_ptr();
            m.insert(
                format!("{}.{}", stringify!($t), c_name(stringify!($f))),
                // SAFETY: addr_of! only computes the address of a field of a (never read) local.
                pointee_of(unsafe { std::ptr::addr_of!((*p).$f) }),
            );
        })*)*
        m
    }};
}

fn rust_pointees() -> BTreeMap<String, usize> {
    pointees! {
        scope_error { message }
        scope_host { name, version }
        scope_frame_list { frames }
        scope_audio { samples }
        scope_enum_option { key, label }
        scope_param_desc { key, label, description, default_string, options }
        scope_value { key }
        scope_params { values }
        scope_prompt { text }
        scope_create_args { pipeline, params }
        scope_prepare_args { params, input_formats }
        scope_call { inputs, output, params, prompts, audio }
        scope_pipeline_desc {
            id, name, description, version, author, docs_url, modes, params, input_ports
        }
        scope_plugin { name, version, description }
    }
}

/// Every constant of `sys`, as i64 (the string one separately).
fn rust_constants() -> BTreeMap<&'static str, i64> {
    macro_rules! consts {
        ($($c:ident),* $(,)?) => { BTreeMap::from([$((stringify!($c), sys::$c as i64)),*]) };
    }
    consts! {
        SCOPE_ABI_VERSION_MAJOR, SCOPE_ABI_VERSION_MINOR, SCOPE_FRAME_ALIGNMENT, SCOPE_ERROR_MIN_CAPACITY,
        SCOPE_OK, SCOPE_ERROR, SCOPE_ERROR_INVALID_ARGUMENT, SCOPE_ERROR_UNSUPPORTED,
        SCOPE_ERROR_OUT_OF_MEMORY, SCOPE_ERROR_BAD_STATE, SCOPE_ERROR_CUDA,
        SCOPE_LOG_DEBUG, SCOPE_LOG_INFO, SCOPE_LOG_WARN, SCOPE_LOG_ERROR,
        SCOPE_ELEMENT_U8, SCOPE_ELEMENT_F32, SCOPE_MEMORY_HOST, SCOPE_MEMORY_CUDA,
        SCOPE_MODE_TEXT, SCOPE_MODE_VIDEO,
        SCOPE_PARAM_BOOL, SCOPE_PARAM_INT, SCOPE_PARAM_FLOAT, SCOPE_PARAM_STRING,
        SCOPE_PARAM_ENUM, SCOPE_PARAM_COLOR,
        SCOPE_CATEGORY_CONFIGURATION, SCOPE_CATEGORY_INPUT,
        SCOPE_PARAM_LOAD_TIME, SCOPE_PARAM_HIDDEN,
        SCOPE_PIPELINE_SUPPORTS_PROMPTS, SCOPE_PIPELINE_PRODUCES_AUDIO, SCOPE_PIPELINE_NO_VIDEO,
        SCOPE_PIPELINE_NONDETERMINISTIC,
        SCOPE_THREADING_INSTANCE, SCOPE_THREADING_SERIAL,
        SCOPE_CALL_FIRST, SCOPE_CALL_PARAMS_CHANGED,
    }
}

/// Sizes of the header's function-pointer typedefs in Rust.
fn rust_fn_types() -> BTreeMap<&'static str, usize> {
    BTreeMap::from([
        ("scope_create_fn", size_of::<sys::scope_create_fn>()),
        ("scope_destroy_fn", size_of::<sys::scope_destroy_fn>()),
        ("scope_prepare_fn", size_of::<sys::scope_prepare_fn>()),
        ("scope_call_fn", size_of::<sys::scope_call_fn>()),
        (
            "scope_plugin_entry_fn",
            size_of::<sys::scope_plugin_entry_fn>(),
        ),
    ])
}

// ---------------------------------------------------------------------------------------------
// Reading the header
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Header {
    /// Struct name -> (field, member designator for offsetof relative to the struct).
    structs: Vec<(String, Vec<String>)>,
    /// (struct, field) of every data pointer field: not `void *`, not a function pointer.
    pointers: Vec<(String, String)>,
    /// Union pseudo-structs: (Rust name, C struct, C field of the union, members).
    unions: Vec<(String, String, String, Vec<String>)>,
    constants: Vec<String>,
    string_defines: Vec<String>,
    fn_types: Vec<String>,
}

fn strip_comments(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    loop {
        let block = rest.find("/*");
        let line = rest.find("//");
        match (block, line) {
            (Some(b), l) if l.is_none_or(|l| b < l) => {
                out.push_str(&rest[..b]);
                let end = rest[b + 2..].find("*/").expect("unterminated comment") + b + 4;
                out.push(' ');
                rest = &rest[end..];
            }
            (_, Some(l)) => {
                out.push_str(&rest[..l]);
                rest = &rest[l..];
                rest = &rest[rest.find('\n').unwrap_or(rest.len())..];
            }
            (None, None) => {
                out.push_str(rest);
                return out;
            }
            (Some(_), None) => unreachable!(),
        }
    }
}

/// The text between the `{` at `open` and its matching `}`; and the index after the `}`.
fn braced(s: &str, open: usize) -> (&str, usize) {
    let mut depth = 0;
    for (i, c) in s[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return (&s[open + 1..open + i], open + i + 1);
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced braces in plugin.h");
}

/// Splits at `sep` outside braces.
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            c if c == sep && depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The name a declaration declares: `(*name)(...)` or the last identifier before `[...]`.
fn declared_name(decl: &str) -> String {
    if let Some(p) = decl.find("(*") {
        let rest = &decl[p + 2..];
        return rest[..rest.find(')').expect("bad function pointer")]
            .trim()
            .to_owned();
    }
    let decl = decl.split('[').next().unwrap().trim_end();
    let start = decl.rfind(|c: char| !is_ident(c)).map_or(0, |i| i + 1);
    decl[start..].to_owned()
}

fn parse_header(text: &str) -> Header {
    let src = strip_comments(text);
    let mut h = Header::default();

    let mut at = 0;
    while let Some(p) = src[at..].find("typedef struct ") {
        let start = at + p;
        let open = start + src[start..].find(['{', ';']).unwrap();
        if &src[open..open + 1] == ";" {
            at = open;
            continue;
        }
        let (body, end) = braced(&src, open);
        let name = src[end..end + src[end..].find(';').unwrap()]
            .trim()
            .to_owned();
        let mut fields = Vec::new();
        for decl in split_top(body, ';') {
            if decl.starts_with("union") {
                let uo = decl.find('{').unwrap();
                let (ubody, uend) = braced(decl, uo);
                let field = decl[uend..].trim().to_owned();
                let members = split_top(ubody, ';')
                    .into_iter()
                    .map(declared_name)
                    .collect();
                h.unions.push((
                    format!("{name}_{field}"),
                    name.clone(),
                    field.clone(),
                    members,
                ));
                fields.push(field);
            } else {
                let field = declared_name(decl);
                let base = decl.trim_start().trim_start_matches("const ").trim_start();
                let is_void = base.starts_with("void ") || base.starts_with("void*");
                if decl.contains('*') && !decl.contains("(*") && !is_void {
                    h.pointers.push((name.clone(), field.clone()));
                }
                fields.push(field);
            }
        }
        h.structs.push((name, fields));
        at = end;
    }

    let mut at = 0;
    while let Some(p) = src[at..].find("enum {") {
        let open = at + p + 5;
        let (body, end) = braced(&src, open);
        for item in split_top(body, ',') {
            h.constants
                .push(item.split('=').next().unwrap().trim().to_owned());
        }
        at = end;
    }

    for line in src.lines() {
        let Some(rest) = line.trim_start().strip_prefix("#define ") else {
            continue;
        };
        let name_end = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        let (name, value) = (&rest[..name_end], rest[name_end..].trim());
        if !name.starts_with("SCOPE_") || rest[name_end..].starts_with('(') {
            continue;
        }
        if value.starts_with('"') {
            h.string_defines.push(name.to_owned());
        } else if !value.is_empty()
            && value
                .trim_start_matches('-')
                .chars()
                .all(|c| c.is_ascii_digit())
        {
            h.constants.push(name.to_owned());
        }
    }

    // Function-pointer typedefs: `typedef ... (*name)(...);` (not inside a struct body).
    let mut at = 0;
    while let Some(p) = src[at..].find("typedef ") {
        let start = at + p;
        let end = start + src[start..].find(';').unwrap();
        let decl = &src[start..end];
        if decl.contains("(*") && !decl.contains('{') {
            h.fn_types.push(declared_name(decl));
        }
        at = end;
    }
    h
}

// ---------------------------------------------------------------------------------------------
// The C side
// ---------------------------------------------------------------------------------------------

fn c_program(h: &Header) -> String {
    let mut c = String::from(
        "#include <stddef.h>\n#include <stdio.h>\n#include \"scope/plugin.h\"\n\n\
         #define ALIGNOF(t) offsetof(struct { char c; t x; }, x)\n\n\
         int main(void)\n{\n",
    );
    for (name, fields) in &h.structs {
        c += &format!(
            "    printf(\"struct {name} %zu %zu\\n\", sizeof({name}), (size_t)ALIGNOF({name}));\n"
        );
        for f in fields {
            c += &format!(
                "    printf(\"field {name} {f} %zu %zu\\n\", offsetof({name}, {f}), sizeof((({name} *)0)->{f}));\n"
            );
        }
    }
    for (name, f) in &h.pointers {
        c += &format!("    printf(\"pointee {name} {f} %zu\\n\", sizeof(*(({name} *)0)->{f}));\n");
    }
    for (uname, sname, field, members) in &h.unions {
        c +=
            &format!("    printf(\"struct {uname} %zu 0\\n\", sizeof((({sname} *)0)->{field}));\n");
        for m in members {
            c += &format!(
                "    printf(\"field {uname} {m} %zu %zu\\n\", offsetof({sname}, {field}.{m}) - offsetof({sname}, {field}), sizeof((({sname} *)0)->{field}.{m}));\n"
            );
        }
    }
    for k in &h.constants {
        c += &format!("    printf(\"const {k} %lld\\n\", (long long)({k}));\n");
    }
    for k in &h.string_defines {
        c += &format!("    printf(\"string {k} %s\\n\", {k});\n");
    }
    for t in &h.fn_types {
        c += &format!("    printf(\"fn {t} %zu\\n\", sizeof({t}));\n");
    }
    c + "    return 0;\n}\n"
}

fn run_c(h: &Header, include: &Path) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("layout");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("layout.c");
    let exe = dir.join("layout");
    std::fs::write(&src, c_program(h)).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .args(["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-I"])
        .arg(include)
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cc:?}: {e}"));
    assert!(
        out.status.success(),
        "compiling {} failed:\n{}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe)
        .output()
        .expect("cannot run the layout program");
    assert!(run.status.success(), "the layout program failed");
    String::from_utf8(run.stdout).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

#[test]
fn sys_matches_plugin_h() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let include = root.join("../../include");
    let header_text =
        std::fs::read_to_string(include.join("scope/plugin.h")).expect("read plugin.h");
    let header = parse_header(&header_text);
    assert!(
        header.structs.len() >= 18,
        "parsed only {} structs from plugin.h",
        header.structs.len()
    );
    let output = run_c(&header, &include);

    let rust = rust_layouts();
    let rust_consts = rust_constants();
    let rust_fns = rust_fn_types();
    let rust_ptrs = rust_pointees();
    let mut problems: Vec<String> = Vec::new();
    let mut seen_structs = Vec::new();

    for line in output.lines() {
        let w: Vec<&str> = line.split(' ').collect();
        let num = |i: usize| w[i].parse::<i64>().unwrap();
        match w[0] {
            "struct" => {
                seen_structs.push(w[1].to_owned());
                let Some(r) = rust.iter().find(|r| r.name == w[1]) else {
                    problems.push(format!("struct {}: in plugin.h but not in sys", w[1]));
                    continue;
                };
                if r.size as i64 != num(2) {
                    problems.push(format!(
                        "struct {}: size C {} != Rust {}",
                        w[1], w[2], r.size
                    ));
                }
                if num(3) != 0 && r.align as i64 != num(3) {
                    problems.push(format!(
                        "struct {}: align C {} != Rust {}",
                        w[1], w[3], r.align
                    ));
                }
            }
            "field" => {
                let Some(r) = rust.iter().find(|r| r.name == w[1]) else {
                    continue;
                };
                match r.fields.iter().find(|f| f.0 == w[2]) {
                    None => problems.push(format!(
                        "{}.{}: in plugin.h but not in the Rust mirror",
                        w[1], w[2]
                    )),
                    Some((_, off, size)) => {
                        if *off as i64 != num(3) {
                            problems.push(format!(
                                "{}.{}: offset C {} != Rust {off}",
                                w[1], w[2], w[3]
                            ));
                        }
                        if *size as i64 != num(4) {
                            problems
                                .push(format!("{}.{}: size C {} != Rust {size}", w[1], w[2], w[4]));
                        }
                    }
                }
            }
            "pointee" => match rust_ptrs.get(&format!("{}.{}", w[1], w[2])) {
                None => problems.push(format!(
                    "{}.{}: a pointer in plugin.h missing from rust_pointees() in this test",
                    w[1], w[2]
                )),
                Some(s) if *s as i64 != num(3) => problems.push(format!(
                    "{}.{}: points at {} bytes in C, {s} in Rust (pointer to pointer vs pointer to struct?)",
                    w[1], w[2], w[3]
                )),
                Some(_) => {}
            },
            "const" => match rust_consts.get(w[1]) {
                None => problems.push(format!("constant {}: in plugin.h but not in sys", w[1])),
                Some(v) if *v != num(2) => {
                    problems.push(format!("constant {}: C {} != Rust {v}", w[1], w[2]))
                }
                Some(_) => {}
            },
            "string" => {
                assert_eq!(
                    w[1], "SCOPE_PLUGIN_ENTRY_SYMBOL",
                    "unknown string define {}",
                    w[1]
                );
                if sys::SCOPE_PLUGIN_ENTRY_SYMBOL.to_str().unwrap() != w[2] {
                    problems.push(format!(
                        "constant {}: C {:?} != Rust {:?}",
                        w[1],
                        w[2],
                        sys::SCOPE_PLUGIN_ENTRY_SYMBOL
                    ));
                }
            }
            "fn" => match rust_fns.get(w[1]) {
                None => problems.push(format!("typedef {}: in plugin.h but not in sys", w[1])),
                Some(s) if *s as i64 != num(2) => {
                    problems.push(format!("typedef {}: size C {} != Rust {s}", w[1], w[2]))
                }
                Some(_) => {}
            },
            other => panic!("unexpected line from the layout program: {other}"),
        }
    }

    // The other direction: every Rust mirror and field exists in the header.
    for r in &rust {
        if !seen_structs.contains(&r.name.to_owned()) {
            problems.push(format!("struct {}: in sys but not in plugin.h", r.name));
            continue;
        }
        let c_fields: Vec<&String> = header
            .structs
            .iter()
            .filter(|(n, _)| n == r.name)
            .flat_map(|(_, f)| f.iter())
            .chain(
                header
                    .unions
                    .iter()
                    .filter(|u| u.0 == r.name)
                    .flat_map(|u| u.3.iter()),
            )
            .collect();
        for (f, _, _) in &r.fields {
            if !c_fields.contains(&f) {
                problems.push(format!(
                    "{}.{f}: in the Rust mirror but not in plugin.h",
                    r.name
                ));
            }
        }
    }
    for k in rust_ptrs.keys() {
        if !header
            .pointers
            .iter()
            .any(|(s, f)| &format!("{s}.{f}") == k)
        {
            problems.push(format!(
                "{k}: in rust_pointees() but not a data pointer in plugin.h"
            ));
        }
    }
    for k in rust_consts.keys() {
        if !header.constants.iter().any(|c| c == k) {
            problems.push(format!("constant {k}: in sys but not in plugin.h"));
        }
    }

    // Every public item of sys.rs is covered by the lists above.
    let sys_src = std::fs::read_to_string(root.join("src/sys.rs")).unwrap();
    for line in sys_src.lines() {
        let line = line.trim_start();
        let item = |prefix: &str| {
            line.strip_prefix(prefix)
                .map(|r| r[..r.find(|c: char| !is_ident(c)).unwrap_or(r.len())].to_owned())
        };
        if let Some(n) = item("pub struct ").or_else(|| item("pub union ")) {
            if !rust.iter().any(|r| r.name == n) {
                problems.push(format!(
                    "struct {n}: in sys.rs but not checked by this test"
                ));
            }
        }
        if let Some(n) = item("pub const ") {
            if !rust_consts.contains_key(n.as_str()) && n != "SCOPE_PLUGIN_ENTRY_SYMBOL" {
                problems.push(format!(
                    "constant {n}: in sys.rs but not checked by this test"
                ));
            }
        }
    }

    assert!(
        problems.is_empty(),
        "sys does not match include/scope/plugin.h ({} problems):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
    println!(
        "checked {} structs, {} pointer fields, {} constants, {} typedefs",
        header.structs.len() + header.unions.len(),
        header.pointers.len(),
        header.constants.len(),
        header.fn_types.len()
    );
}
