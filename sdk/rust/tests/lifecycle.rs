//! Drives a plugin exported with `export_plugin!` through the raw C ABI, the way a host does,
//! with a mock host written in Rust: registration, descriptors, parameters of every type,
//! error and panic mapping, logging, frame checks, F32 rows.
//!
//! This file plays the host, so it calls the plugin's C entry points directly. Every `unsafe`
//! block here passes pointers to locals or statics built in this file, which stay alive for
//! the whole call, or reads C strings and arrays that the plugin promises to keep valid until
//! unregister.

use ::scope_plugin::sys::*;
use ::scope_plugin::*;
use std::ffi::{c_char, c_void, CStr};
use std::ptr;
use std::sync::Mutex;

// ---------------------------------------------------------------------------------------------
// Pipelines under test
// ---------------------------------------------------------------------------------------------

/// Echoes what it sees; fails, errs or panics on request.
struct Probe {
    seen_prepare: bool,
}

/// What the last Probe call saw, as text (a test-only global).
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

impl Pipeline for Probe {
    fn schema() -> Schema {
        Schema::new("probe", "Probe")
            .description("Test pipeline.")
            .mode(ModeDesc::video().input_size(1))
            .mode(ModeDesc::text().size(64, 32).default_mode())
            .supports_prompts()
            .param(
                Param::int("action")
                    .range(0, 3)
                    .default(0)
                    .description("0 ok, 1 err, 2 panic, 3 panic in prepare"),
            )
            .param(Param::int("create_fail").range(0, 2).load_time())
            .param(Param::float("gain").range(-1.0, 2.0).default(0.5).step(0.1))
            .param(Param::bool("flag").default(true))
            .param(Param::string("text").default("hello"))
            .param(
                Param::enumeration("shape")
                    .option("box", "Box")
                    .option_key("disc")
                    .default("disc"),
            )
            .param(
                Param::color("tint")
                    .default([0.25, 0.5, 0.75, 1.0])
                    .hidden(),
            )
    }

    fn create(ctx: &CreateContext<'_>) -> Result<Self, Error> {
        ctx.log(Level::Info, "probe created\nsecond line");
        match ctx.params().int("create_fail") {
            1 => Err(Error::out_of_memory("create asked to fail")),
            2 => panic!("create asked to panic"),
            _ => Ok(Probe {
                seen_prepare: false,
            }),
        }
    }

    fn prepare(&mut self, ctx: &PrepareContext<'_>) -> Result<Requirements, Error> {
        if ctx.params().int("action") == 3 {
            panic!("prepare asked to panic");
        }
        self.seen_prepare = true;
        let f = ctx.input();
        Ok(Requirements {
            input_size: 1,
            output_channels: f.map_or(3, |f| f.channels),
            output_element_type: Some(ElementType::F32),
            input_element_type: Some(ElementType::F32),
            ..Requirements::default()
        })
    }

    fn call(&mut self, ctx: &mut CallContext<'_>) -> Result<(), Error> {
        let p = ctx.params();
        let mut seen = vec![
            format!("gain={}", p.float("gain")),
            format!("flag={}", p.bool("flag")),
            format!("text={}", p.string("text")),
            format!("shape={}", p.enum_key("shape")),
            format!("tint={:?}", p.color("tint")),
            format!("action={}", p.int("action")),
            format!("first={}", ctx.is_first()),
        ];
        seen.extend(
            ctx.prompts()
                .map(|pr| format!("prompt={}:{}", pr.text, pr.weight)),
        );
        *SEEN.lock().unwrap() = seen;
        match p.int("action") {
            1 => return Err(Error::unsupported("call asked to fail")),
            2 => panic!("call asked to panic"),
            _ => {}
        }
        if let Ok(input) = ctx.input() {
            let mut out = ctx.output_mut()?;
            for y in 0..input.height() {
                for (o, i) in out.row_f32_mut(y).iter_mut().zip(input.row_f32(y)) {
                    *o = 1.0 - *i;
                }
            }
        }
        ctx.log(Level::Warn, "probe called");
        Ok(())
    }
}

/// A second pipeline, to check the table holds several.
struct Plain;

impl Pipeline for Plain {
    fn schema() -> Schema {
        Schema::new("plain", "Plain").mode(ModeDesc::video())
    }
    fn create(_: &CreateContext<'_>) -> Result<Self, Error> {
        Ok(Plain)
    }
    fn call(&mut self, ctx: &mut CallContext<'_>) -> Result<(), Error> {
        // Parameter not in the schema: a bug in the plugin, reported as a panic.
        ctx.params().float("nope");
        Ok(())
    }
}

export_plugin!(name: "sdk-test", version: "0.0.1", pipelines: [Probe, Plain]);

// ---------------------------------------------------------------------------------------------
// The mock host
// ---------------------------------------------------------------------------------------------

static LOG: Mutex<Vec<(i32, String)>> = Mutex::new(Vec::new());
/// The registry is process-wide: tests take turns.
static TURN: Mutex<()> = Mutex::new(());

unsafe extern "C" fn host_log(_: *const scope_host, level: i32, message: *const c_char) {
    let m = unsafe { CStr::from_ptr(message) }
        .to_string_lossy()
        .into_owned();
    LOG.lock().unwrap().push((level, m));
}

struct SyncHost(scope_host);
unsafe impl Sync for SyncHost {}

static HOST: SyncHost = SyncHost(scope_host {
    struct_size: std::mem::size_of::<scope_host>() as u32,
    abi_major: 1,
    abi_minor: 0,
    name: c"mock".as_ptr(),
    version: c"0.0.0".as_ptr(),
    host_data: ptr::null_mut(),
    log: Some(host_log),
    get_extension: None,
    // No pool: Host::parallel_for runs inline, as on a 1.0 host.
    parallel_for: None,
    worker_count: 0,
    reserved: 0,
});

/// An error buffer.
struct Err {
    buf: Vec<u8>,
    raw: scope_error,
}

impl Err {
    fn new(capacity: usize) -> Box<Err> {
        let mut e = Box::new(Err {
            buf: vec![b'x'; capacity],
            raw: scope_error {
                struct_size: 16,
                capacity: capacity as u32,
                message: ptr::null_mut(),
            },
        });
        e.raw.message = e.buf.as_mut_ptr() as *mut c_char;
        e
    }
    fn ptr(&mut self) -> *mut scope_error {
        &mut self.raw
    }
    fn text(&self) -> String {
        CStr::from_bytes_until_nul(&self.buf)
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }
}

fn plugin() -> &'static scope_plugin {
    unsafe { &*scope_plugin_entry() }
}

fn register() -> &'static scope_plugin {
    let p = plugin();
    let mut e = Err::new(256);
    let st = unsafe {
        p.register_pipelines.unwrap()(&HOST.0, c"/opt/plugins/sdk-test.so".as_ptr(), e.ptr())
    };
    assert_eq!(st, SCOPE_OK, "register: {}", e.text());
    p
}

fn desc(p: &scope_plugin, id: &str) -> &'static scope_pipeline_desc {
    for i in 0..unsafe { p.pipeline_count.unwrap()() } {
        let d = unsafe { &*p.get_pipeline.unwrap()(i) };
        if unsafe { CStr::from_ptr(d.id) }.to_str().unwrap() == id {
            return d;
        }
    }
    panic!("no pipeline {id}");
}

/// Host-side parameter values: every key of the descriptor, at its default unless overridden.
struct Values {
    _strings: Vec<std::ffi::CString>,
    values: Vec<scope_value>,
    raw: scope_params,
}

fn values(d: &scope_pipeline_desc, overrides: &[(&str, scope_value_as)]) -> Box<Values> {
    let params = if d.param_count == 0 {
        &[][..]
    } else {
        unsafe { std::slice::from_raw_parts(d.params, d.param_count as usize) }
    };
    let mut vals = Box::new(Values {
        _strings: Vec::new(),
        values: Vec::new(),
        raw: scope_params {
            struct_size: 16,
            count: 0,
            values: ptr::null(),
        },
    });
    for p in params {
        let key = unsafe { CStr::from_ptr(p.key) }.to_str().unwrap();
        let v = match overrides.iter().find(|o| o.0 == key) {
            Some(o) => o.1,
            None => match p.type_ {
                SCOPE_PARAM_BOOL => scope_value_as {
                    b: p.default_number as i32,
                },
                SCOPE_PARAM_INT => scope_value_as {
                    i: p.default_number as i64,
                },
                SCOPE_PARAM_FLOAT => scope_value_as {
                    f: p.default_number,
                },
                SCOPE_PARAM_COLOR => scope_value_as {
                    color: p.default_color,
                },
                _ => scope_value_as {
                    s: p.default_string,
                },
            },
        };
        vals.values.push(scope_value {
            key: p.key,
            type_: p.type_,
            reserved: 0,
            as_: v,
        });
    }
    vals.raw.count = vals.values.len() as u32;
    vals.raw.values = vals.values.as_ptr();
    vals
}

fn create(
    d: &scope_pipeline_desc,
    mode: u32,
    v: &Values,
    e: &mut Err,
) -> (scope_status, *mut c_void) {
    let args = scope_create_args {
        struct_size: std::mem::size_of::<scope_create_args>() as u32,
        mode,
        pipeline: d,
        params: &v.raw,
        cuda_device: -1,
        reserved: 0,
    };
    let mut inst = ptr::null_mut();
    let st = unsafe { d.create.unwrap()(&HOST.0, &args, &mut inst, e.ptr()) };
    (st, inst)
}

fn prepare(
    d: &scope_pipeline_desc,
    inst: *mut c_void,
    v: &Values,
    formats: &[scope_frame_format],
    e: &mut Err,
) -> (scope_status, scope_requirements) {
    // The host passes one pointer per port (plugin.h: host-written arrays hold pointers).
    let ptrs: Vec<*const scope_frame_format> = formats
        .iter()
        .map(|f| f as *const scope_frame_format)
        .collect();
    prepare_ptrs(d, inst, v, &ptrs, e)
}

fn prepare_ptrs(
    d: &scope_pipeline_desc,
    inst: *mut c_void,
    v: &Values,
    formats: &[*const scope_frame_format],
    e: &mut Err,
) -> (scope_status, scope_requirements) {
    let args = scope_prepare_args {
        struct_size: std::mem::size_of::<scope_prepare_args>() as u32,
        mode: SCOPE_MODE_VIDEO,
        params: &v.raw,
        input_formats: if formats.is_empty() {
            ptr::null()
        } else {
            formats.as_ptr()
        },
        input_port_count: formats.len() as u32,
        reserved: 0,
    };
    let mut req: scope_requirements = unsafe { std::mem::zeroed() };
    req.struct_size = std::mem::size_of::<scope_requirements>() as u32;
    let st = unsafe { d.prepare.unwrap()(inst, &args, &mut req, e.ptr()) };
    (st, req)
}

fn frame(w: u32, h: u32, ch: u32, et: u32, pitch: i64, data: *mut c_void) -> scope_frame {
    scope_frame {
        struct_size: std::mem::size_of::<scope_frame>() as u32,
        width: w,
        height: h,
        channels: ch,
        element_type: et,
        memory: SCOPE_MEMORY_HOST,
        pitch,
        data,
        cuda_stream: ptr::null_mut(),
        cuda_device: -1,
        flags: 0,
        timestamp_us: 0,
        index: 0,
    }
}

/// A frame list over an array of frame pointers (oldest first), as the host builds it.
fn frame_list(frames: &[*const scope_frame]) -> scope_frame_list {
    scope_frame_list {
        frames: frames.as_ptr(),
        count: frames.len() as u32,
        reserved: 0,
    }
}

fn call_raw(
    d: &scope_pipeline_desc,
    inst: *mut c_void,
    v: &Values,
    inputs: &[scope_frame_list],
    out: *mut scope_frame,
    prompts: &[scope_prompt],
    e: &mut Err,
) -> scope_status {
    let c = scope_call {
        struct_size: std::mem::size_of::<scope_call>() as u32,
        flags: SCOPE_CALL_FIRST,
        inputs: if inputs.is_empty() {
            ptr::null()
        } else {
            inputs.as_ptr()
        },
        input_port_count: inputs.len() as u32,
        reserved: 0,
        output: out,
        params: &v.raw,
        prompts: if prompts.is_empty() {
            ptr::null()
        } else {
            prompts.as_ptr()
        },
        prompt_count: prompts.len() as u32,
        reserved2: 0,
        audio: ptr::null_mut(),
        call_index: 0,
        timestamp_us: 0,
    };
    unsafe { d.call.unwrap()(inst, &c, e.ptr()) }
}

fn cstr(p: *const c_char) -> String {
    if p.is_null() {
        return "<NULL>".into();
    }
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn descriptors_mirror_the_schema() {
    let _t = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let p = register();
    assert_eq!(cstr(p.name), "sdk-test");
    assert_eq!(cstr(p.version), "0.0.1");
    assert!(p.description.is_null());
    assert_eq!(unsafe { p.pipeline_count.unwrap()() }, 2);

    let d = desc(p, "probe");
    assert_eq!(cstr(d.name), "Probe");
    assert_eq!(cstr(d.description), "Test pipeline.");
    assert!(d.version.is_null() && d.author.is_null() && d.docs_url.is_null());
    assert_eq!(d.flags, SCOPE_PIPELINE_SUPPORTS_PROMPTS);
    let modes = unsafe { std::slice::from_raw_parts(d.modes, d.mode_count as usize) };
    assert_eq!(modes.len(), 2);
    assert_eq!(
        (modes[0].mode, modes[0].is_default, modes[0].input_size),
        (SCOPE_MODE_VIDEO, 0, 1)
    );
    assert_eq!(
        (
            modes[1].mode,
            modes[1].is_default,
            modes[1].width,
            modes[1].height
        ),
        (SCOPE_MODE_TEXT, 1, 64, 32)
    );
    let params = unsafe { std::slice::from_raw_parts(d.params, d.param_count as usize) };
    let keys: Vec<String> = params.iter().map(|p| cstr(p.key)).collect();
    assert_eq!(
        keys,
        [
            "action",
            "create_fail",
            "gain",
            "flag",
            "text",
            "shape",
            "tint"
        ]
    );
    assert_eq!(params[1].flags, SCOPE_PARAM_LOAD_TIME);
    assert_eq!(
        (
            params[2].min_value,
            params[2].max_value,
            params[2].step,
            params[2].default_number
        ),
        (-1.0, 2.0, 0.1, 0.5)
    );
    assert_eq!(
        (
            params[3].type_,
            params[3].default_number,
            params[3].max_value
        ),
        (SCOPE_PARAM_BOOL, 1.0, 1.0)
    );
    assert_eq!(cstr(params[4].default_string), "hello");
    assert_eq!(params[5].option_count, 2);
    let opts = unsafe { std::slice::from_raw_parts(params[5].options, 2) };
    assert_eq!(
        (
            cstr(opts[0].key),
            cstr(opts[0].label),
            cstr(opts[1].key),
            cstr(opts[1].label)
        ),
        ("box".into(), "Box".into(), "disc".into(), "<NULL>".into())
    );
    assert_eq!(cstr(params[5].default_string), "disc");
    assert_eq!(
        (params[6].default_color, params[6].flags),
        ([0.25, 0.5, 0.75, 1.0], SCOPE_PARAM_HIDDEN)
    );

    let plain = desc(p, "plain");
    assert!(plain.params.is_null() && plain.param_count == 0);

    // Reference-counted: same addresses while any registration stands.
    let again = register();
    assert!(ptr::eq(desc(again, "probe"), d));
    unsafe { p.unregister_pipelines.unwrap()() };
    assert!(ptr::eq(desc(p, "probe"), d));
    unsafe { p.unregister_pipelines.unwrap()() };
    assert_eq!(unsafe { p.pipeline_count.unwrap()() }, 0);
    assert!(unsafe { p.get_pipeline.unwrap()(0) }.is_null());

    // A NULL host (as the header's SCOPE_DEFINE_PLUGIN tolerates) works; logging is dropped.
    let mut e = Err::new(64);
    assert_eq!(
        unsafe { p.register_pipelines.unwrap()(ptr::null(), ptr::null(), e.ptr()) },
        SCOPE_OK
    );
    let d = desc(p, "probe");
    let v = values(d, &[]);
    let args = scope_create_args {
        struct_size: 32,
        mode: SCOPE_MODE_VIDEO,
        pipeline: d,
        params: &v.raw,
        cuda_device: -1,
        reserved: 0,
    };
    let mut inst = ptr::null_mut();
    assert_eq!(
        unsafe { d.create.unwrap()(ptr::null(), &args, &mut inst, e.ptr()) },
        SCOPE_OK,
        "{}",
        e.text()
    );
    unsafe { d.destroy.unwrap()(inst) };
    // A host of another major is refused.
    unsafe { p.unregister_pipelines.unwrap()() };
    let mut other = HOST.0;
    other.abi_major = 2;
    assert_eq!(
        unsafe { p.register_pipelines.unwrap()(&other, ptr::null(), e.ptr()) },
        SCOPE_ERROR_UNSUPPORTED
    );
    assert_eq!(e.text(), "host ABI 2.0; this plugin needs major 1");
    assert_eq!(unsafe { p.pipeline_count.unwrap()() }, 0);
}

#[test]
fn params_errors_panics_and_logs() {
    let _t = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let p = register();
    let d = desc(p, "probe");
    let mut e = Err::new(256);

    // create: error, panic, wrong mode, success.
    let v = values(d, &[("create_fail", scope_value_as { i: 1 })]);
    let (st, inst) = create(d, SCOPE_MODE_VIDEO, &v, &mut e);
    assert_eq!(
        (st, inst.is_null(), e.text().as_str()),
        (SCOPE_ERROR_OUT_OF_MEMORY, true, "create asked to fail")
    );
    let v = values(d, &[("create_fail", scope_value_as { i: 2 })]);
    let (st, _) = create(d, SCOPE_MODE_VIDEO, &v, &mut e);
    assert_eq!(st, SCOPE_ERROR);
    assert!(
        e.text()
            .starts_with("panic: create asked to panic (tests/lifecycle.rs:"),
        "{}",
        e.text()
    );
    let v = values(d, &[]);
    let (st, _) = create(d, 4, &v, &mut e);
    assert_eq!(st, SCOPE_ERROR_UNSUPPORTED, "{}", e.text());
    LOG.lock().unwrap().clear();
    let (st, inst) = create(d, SCOPE_MODE_VIDEO, &v, &mut e);
    assert_eq!(st, SCOPE_OK, "{}", e.text());
    assert_eq!(
        LOG.lock().unwrap().as_slice(),
        &[(SCOPE_LOG_INFO, "probe created\nsecond line".to_owned())]
    );

    // call before prepare.
    assert_eq!(
        call_raw(d, inst, &v, &[], ptr::null_mut(), &[], &mut e),
        SCOPE_ERROR_BAD_STATE
    );

    // prepare writes requirements; a panic in prepare fails it and un-prepares.
    let fmt = scope_frame_format {
        struct_size: 24,
        width: 3,
        height: 2,
        channels: 4,
        element_type: SCOPE_ELEMENT_F32,
        memory: SCOPE_MEMORY_HOST,
    };
    let (st, req) = prepare(d, inst, &v, &[fmt], &mut e);
    assert_eq!(st, SCOPE_OK, "{}", e.text());
    assert_eq!(
        (
            req.input_size,
            req.output_channels,
            req.output_element_type,
            req.input_element_type
        ),
        (1, 4, SCOPE_ELEMENT_F32, SCOPE_ELEMENT_F32)
    );
    let v3 = values(d, &[("action", scope_value_as { i: 3 })]);
    let (st, _) = prepare(d, inst, &v3, &[fmt], &mut e);
    assert_eq!(st, SCOPE_ERROR);
    assert!(
        e.text().starts_with("panic: prepare asked to panic"),
        "{}",
        e.text()
    );
    assert_eq!(
        call_raw(d, inst, &v, &[], ptr::null_mut(), &[], &mut e),
        SCOPE_ERROR_BAD_STATE
    );

    // A full call: values from the host, defaults for what it left out, F32 rows, prompts, log.
    let (st, _) = prepare(d, inst, &v, &[fmt], &mut e);
    assert_eq!(st, SCOPE_OK);
    let text = c"from host";
    let mut partial = values(
        d,
        &[
            ("gain", scope_value_as { f: 1.5 }),
            ("text", scope_value_as { s: text.as_ptr() }),
        ],
    );
    partial
        .values
        .retain(|x| cstr(x.key) != "shape" && cstr(x.key) != "flag");
    partial.raw.count = partial.values.len() as u32;
    partial.raw.values = partial.values.as_ptr();
    let pitch = 64i64; // 3 px * 4 ch * 4 bytes = 48 bytes of pixels, 16 of padding
    let mut inbuf = vec![0f32; 32];
    for (i, x) in inbuf.iter_mut().enumerate() {
        *x = i as f32 / 32.0;
    }
    let mut outbuf = vec![-7f32; 32];
    let fin = frame(
        3,
        2,
        4,
        SCOPE_ELEMENT_F32,
        pitch,
        inbuf.as_mut_ptr() as *mut c_void,
    );
    let mut fout = frame(
        3,
        2,
        4,
        SCOPE_ELEMENT_F32,
        pitch,
        outbuf.as_mut_ptr() as *mut c_void,
    );
    let fin_ptrs = [&fin as *const scope_frame];
    let list = [frame_list(&fin_ptrs)];
    let prompts = [scope_prompt {
        text: c"a cat".as_ptr(),
        weight: 0.5,
        reserved: 0,
    }];
    LOG.lock().unwrap().clear();
    let st = call_raw(d, inst, &partial, &list, &mut fout, &prompts, &mut e);
    assert_eq!(st, SCOPE_OK, "{}", e.text());
    assert_eq!(
        SEEN.lock().unwrap().as_slice(),
        &[
            "gain=1.5",
            "flag=true",
            "text=from host",
            "shape=disc",
            "tint=[0.25, 0.5, 0.75, 1.0]",
            "action=0",
            "first=true",
            "prompt=a cat:0.5"
        ]
    );
    for y in 0..2 {
        for x in 0..16 {
            let i = y * 16 + x;
            let want = if x < 12 { 1.0 - inbuf[i] } else { -7.0 };
            assert_eq!(outbuf[i], want, "output float {i}");
        }
    }
    assert_eq!(
        LOG.lock().unwrap().as_slice(),
        &[(SCOPE_LOG_WARN, "probe called".to_owned())]
    );

    // Err(Error) maps to its status and message; a panic to SCOPE_ERROR "panic: ...".
    let v1 = values(d, &[("action", scope_value_as { i: 1 })]);
    assert_eq!(
        call_raw(d, inst, &v1, &list, &mut fout, &[], &mut e),
        SCOPE_ERROR_UNSUPPORTED
    );
    assert_eq!(e.text(), "call asked to fail");
    let v2 = values(d, &[("action", scope_value_as { i: 2 })]);
    assert_eq!(
        call_raw(d, inst, &v2, &list, &mut fout, &[], &mut e),
        SCOPE_ERROR
    );
    assert!(
        e.text()
            .starts_with("panic: call asked to panic (tests/lifecycle.rs:"),
        "{}",
        e.text()
    );
    // ...and the instance still works.
    assert_eq!(
        call_raw(d, inst, &v, &list, &mut fout, &[], &mut e),
        SCOPE_OK
    );

    // Truncation: UTF-8 safe, NUL-terminated, never past capacity.
    let mut tiny = Err::new(6);
    assert_eq!(
        call_raw(d, inst, &v2, &list, &mut fout, &[], &mut tiny),
        SCOPE_ERROR
    );
    assert_eq!(tiny.text(), "panic");
    // NULL error buffer is fine.
    assert_eq!(
        call_raw(
            d,
            inst,
            &v2,
            &list,
            &mut fout,
            &[],
            &mut Err {
                buf: vec![],
                raw: scope_error {
                    struct_size: 16,
                    capacity: 0,
                    message: ptr::null_mut()
                }
            }
        ),
        SCOPE_ERROR
    );

    // Bad frames never reach the pipeline.
    let misaligned = frame(
        3,
        2,
        4,
        SCOPE_ELEMENT_F32,
        62,
        inbuf.as_mut_ptr() as *mut c_void,
    );
    let misaligned_ptrs = [&misaligned as *const scope_frame];
    let bad_list = [frame_list(&misaligned_ptrs)];
    assert_eq!(
        call_raw(d, inst, &v, &bad_list, &mut fout, &[], &mut e),
        SCOPE_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(
        e.text(),
        "input port 0 frame 0: F32 data or pitch is not 4-byte aligned"
    );
    let mut short = fin;
    short.struct_size = 8;
    let short_ptrs = [&short as *const scope_frame];
    let short_list = [frame_list(&short_ptrs)];
    assert_eq!(
        call_raw(d, inst, &v, &short_list, &mut fout, &[], &mut e),
        SCOPE_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(
        e.text(),
        "input port 0 frame 0.struct_size is 8, smaller than ABI v1.0's 72"
    );
    let null_ptrs = [&fin as *const scope_frame, ptr::null()];
    let null_list = [frame_list(&null_ptrs)];
    assert_eq!(
        call_raw(d, inst, &v, &null_list, &mut fout, &[], &mut e),
        SCOPE_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(e.text(), "input port 0 frame 1 is NULL");

    // Frame lists are arrays of pointers: frames of a newer host (a bigger scope_frame) that
    // do not sit next to each other are read one by one, never stepped over by struct_size.
    #[repr(C)]
    struct NewerFrame {
        frame: scope_frame,
        appended: [u64; 3],
    }
    let mut oldbuf = vec![0.75f32; 32];
    let mut older = NewerFrame {
        frame: frame(
            3,
            2,
            4,
            SCOPE_ELEMENT_F32,
            pitch,
            oldbuf.as_mut_ptr() as *mut c_void,
        ),
        appended: [u64::MAX; 3],
    };
    older.frame.struct_size = std::mem::size_of::<NewerFrame>() as u32;
    let mut newer = NewerFrame {
        frame: fin,
        appended: [u64::MAX; 3],
    };
    newer.frame.struct_size = std::mem::size_of::<NewerFrame>() as u32;
    let two_ptrs = [
        &older.frame as *const scope_frame,
        &newer.frame as *const scope_frame,
    ];
    let two_list = [frame_list(&two_ptrs)];
    outbuf.iter_mut().for_each(|x| *x = -7.0);
    assert_eq!(
        call_raw(d, inst, &v, &two_list, &mut fout, &[], &mut e),
        SCOPE_OK,
        "{}",
        e.text()
    );
    for y in 0..2 {
        for x in 0..12 {
            let i = y * 16 + x;
            assert_eq!(
                outbuf[i],
                1.0 - inbuf[i],
                "output float {i} (from the newest frame)"
            );
        }
    }
    assert_eq!(older.appended, [u64::MAX; 3]);

    // input_formats is an array of pointers too: a NULL entry is refused, and a format of a
    // newer host (bigger struct_size) on port 1 does not disturb port 0.
    let (st, _) = prepare_ptrs(d, inst, &v, &[&fmt as *const _, ptr::null()], &mut e);
    assert_eq!(st, SCOPE_ERROR_INVALID_ARGUMENT);
    assert_eq!(e.text(), "input_formats[1] is NULL");
    #[repr(C)]
    struct NewerFormat {
        format: scope_frame_format,
        appended: [u32; 2],
    }
    let mut wide = NewerFormat {
        format: fmt,
        appended: [7; 2],
    };
    wide.format.struct_size = std::mem::size_of::<NewerFormat>() as u32;
    wide.format.channels = 1;
    let mut gray = wide.format;
    gray.struct_size = 24;
    gray.channels = 3;
    let (st, req) = prepare_ptrs(
        d,
        inst,
        &v,
        &[&gray as *const _, &wide.format as *const _],
        &mut e,
    );
    assert_eq!(st, SCOPE_OK, "{}", e.text());
    assert_eq!(req.output_channels, 3);
    let (st, req) = prepare_ptrs(
        d,
        inst,
        &v,
        &[&wide.format as *const _, &gray as *const _],
        &mut e,
    );
    assert_eq!(st, SCOPE_OK, "{}", e.text());
    assert_eq!(req.output_channels, 1);

    unsafe { d.destroy.unwrap()(inst) };

    // Using a key that is not in the schema is a plugin bug, reported as a panic.
    let plain = desc(p, "plain");
    let none = values(plain, &[]);
    let (st, pi) = create(plain, SCOPE_MODE_VIDEO, &none, &mut e);
    assert_eq!(st, SCOPE_OK);
    assert_eq!(prepare(plain, pi, &none, &[], &mut e).0, SCOPE_OK);
    assert_eq!(
        call_raw(plain, pi, &none, &[], ptr::null_mut(), &[], &mut e),
        SCOPE_ERROR
    );
    assert!(
        e.text()
            .starts_with("panic: parameter \"nope\" is not in the schema of pipeline \"plain\""),
        "{}",
        e.text()
    );
    unsafe { plain.destroy.unwrap()(pi) };

    unsafe { p.unregister_pipelines.unwrap()() };
}

#[test]
fn schema_validation() {
    let ok = Schema::new("a.b-c_d", "A").mode(ModeDesc::video());
    assert!(ok.validate().is_ok());
    let cases: Vec<(Schema, &str)> = vec![
        (
            Schema::new("Bad", "A").mode(ModeDesc::video()),
            "id must match",
        ),
        (
            Schema::new("a", "").mode(ModeDesc::video()),
            "name is empty",
        ),
        (Schema::new("a", "A"), "no modes"),
        (
            Schema::new("a", "A")
                .mode(ModeDesc::video().default_mode())
                .mode(ModeDesc::text().default_mode()),
            "more than one mode",
        ),
        (
            Schema::new("a", "A")
                .mode(ModeDesc::video())
                .mode(ModeDesc::video()),
            "appears twice",
        ),
        (
            Schema::new("a", "A")
                .mode(ModeDesc::video())
                .param(Param::float("x").range(1.0, 0.0)),
            "min <= max",
        ),
        (
            Schema::new("a", "A")
                .mode(ModeDesc::video())
                .param(Param::float("x").default(3.0)),
            "outside",
        ),
        (
            Schema::new("a", "A")
                .mode(ModeDesc::video())
                .param(Param::int("x").range(5, 9))
                .param(Param::bool("x")),
            "appears twice",
        ),
        (
            Schema::new("a", "A")
                .mode(ModeDesc::video())
                .param(Param::enumeration("e")),
            "no options",
        ),
        (
            Schema::new("a", "A")
                .mode(ModeDesc::video())
                .param(Param::enumeration("e").option_key("a").default("b")),
            "not an option",
        ),
        (
            Schema::new("a", "A")
                .mode(ModeDesc::video())
                .param(Param::string("Key")),
            "must match",
        ),
        (Schema::new("a", "A\0").mode(ModeDesc::video()), "NUL"),
        (
            Schema::new("a", "A")
                .mode(ModeDesc::video())
                .param(Param::color("c").default([2.0, 0.0, 0.0, 1.0])),
            "outside 0..1",
        ),
    ];
    for (schema, want) in cases {
        let e = schema.validate().expect_err(want);
        assert!(
            e.message().contains(want),
            "{:?} does not contain {want:?}",
            e.message()
        );
        assert_eq!(e.status(), Status::InvalidArgument);
    }
    // An int range that leaves out 0 gets the bound closest to 0 as its default.
    let s = Schema::new("a", "A")
        .mode(ModeDesc::video())
        .param(Param::int("x").range(5, 9));
    assert!(s.validate().is_ok());
}
