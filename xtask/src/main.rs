//! The site's build step, without cargo-leptos: `cargo xtask build [--release]`.
//!
//! What cargo-leptos's build does for this workspace, in one small program a fresh machine
//! compiles in seconds instead of installing two tools for a quarter of an hour:
//! 1. compiles the server (`gatehouse`) and the wasm (`frontend`) at the same time, each in its
//!    own target directory (`target/`, `target/front/`, as cargo-leptos does, so `make dev`'s
//!    watch mode reuses the same artifacts);
//! 2. runs wasm-bindgen through its library, `wasm-bindgen-cli-support`, pinned to the lockfile's
//!    wasm-bindgen version (they must match exactly);
//! 3. in a release build, shrinks the wasm with binaryen's `wasm-opt` from npm (Debian's older
//!    binaryen breaks hydration, so its version is checked);
//! 4. writes the js, wasm and stylesheet under `target/site/pkg` with content hashes in their
//!    names, and `hash.txt` beside the server binary, where Leptos and `server::assets` read them;
//! 5. copies `public/` into the site root and, in a release build, writes `.gz` and `.br`
//!    siblings that the server picks by `Accept-Encoding`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use base64::Engine;
use sha2::{Digest, Sha256};

/// The `/pkg/<name>.<hash>.{js,wasm,css}` file names (the Leptos options' output name).
const NAME: &str = "gatehouse";
/// The oldest binaryen known to keep hydration working (Debian's 108 does not; 132 does).
const MIN_WASM_OPT: u32 = 116;

fn main() {
    if let Err(e) = run() {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("build")
        || args[1..].iter().any(|a| a != "--release")
    {
        bail!("usage: cargo xtask build [--release]");
    }
    let release = args.iter().any(|a| a == "--release");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the workspace root")?
        .to_path_buf();
    let started = Instant::now();
    compile(&root, release)?;
    let compiled = started.elapsed();
    site(&root, release)?;
    println!(
        "xtask: built the {} site in {:.1} s ({:.1} s compiling) → target/site",
        if release { "release" } else { "debug" },
        started.elapsed().as_secs_f64(),
        compiled.as_secs_f64()
    );
    Ok(())
}

/// Both compiles at once: separate target directories, so neither waits for the other's lock,
/// and the two cores stay busy while one of them links or waits on a single crate.
fn compile(root: &Path, release: bool) -> Result<()> {
    let mut wasm = cargo(root, release);
    wasm.args([
        "--package=frontend",
        "--lib",
        "--target=wasm32-unknown-unknown",
        "--target-dir=target/front",
    ]);
    if release {
        wasm.arg("--profile=wasm-release");
    }
    let mut server = cargo(root, release);
    server.args(["--package=gatehouse", "--bin=gatehouse"]);
    if release {
        server.arg("--release");
    }
    let mut wasm = wasm.spawn().context("starting cargo for the wasm")?;
    let mut server = server.spawn().context("starting cargo for the server")?;
    let (w, s) = (wasm.wait()?, server.wait()?);
    if !w.success() {
        bail!("compiling the wasm (frontend) failed");
    }
    if !s.success() {
        bail!("compiling the server failed");
    }
    Ok(())
}

/// `cargo build` with what cargo-leptos passes, so both build the same artifacts: the output
/// name Leptos reads at compile time, and in debug builds the `erase_components` cfg that makes
/// Leptos's view types cheap to compile.
fn cargo(root: &Path, release: bool) -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root)
        .args(["build", "--no-default-features"])
        .env("LEPTOS_OUTPUT_NAME", NAME)
        .env("LEPTOS_HASH_FILES", "true")
        .env("LEPTOS_HASH_FILE_NAME", "hash.txt");
    if !release {
        let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
        flags.push_str(" --cfg erase_components");
        c.env("RUSTFLAGS", flags.trim());
    }
    c
}

fn site(root: &Path, release: bool) -> Result<()> {
    let profile = if release { "wasm-release" } else { "debug" };
    let input = root.join(format!(
        "target/front/wasm32-unknown-unknown/{profile}/frontend.wasm"
    ));
    let mut out = wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .out_name(NAME)
        .web(true)?
        .typescript(false)
        .demangle(true)
        .generate_output()
        .with_context(|| format!("wasm-bindgen on {}", input.display()))?;
    let js = out.js().as_bytes().to_vec();
    let mut wasm = out.wasm_mut().emit_wasm();
    let pkg = root.join("target/site/pkg");
    std::fs::create_dir_all(&pkg)?;
    // JS the wasm's crates bring (`inline_js`, `module = …`), where the glue imports it from
    // (`./snippets/…`), as the wasm-bindgen CLI places it.
    let mut snippets: Vec<(PathBuf, &str)> = Vec::new();
    for (identifier, list) in out.snippets() {
        for (i, js) in list.iter().enumerate() {
            snippets.push((Path::new(identifier).join(format!("inline{i}.js")), js));
        }
    }
    for (path, js) in out.local_modules() {
        snippets.push((PathBuf::from(path), js));
    }
    for (path, js) in snippets {
        let file = pkg.join("snippets").join(path);
        std::fs::create_dir_all(file.parent().context("a snippet's folder")?)?;
        std::fs::write(&file, js).with_context(|| format!("writing {}", file.display()))?;
    }
    if release {
        wasm = wasm_opt(&pkg, &wasm)?;
    }
    let css = std::fs::read(root.join("style/main.css")).context("reading style/main.css")?;
    let mut hashes = String::new();
    for (kind, bytes) in [("js", &js), ("wasm", &wasm), ("css", &css)] {
        let hash = content_hash(bytes);
        let file = pkg.join(format!("{NAME}.{hash}.{kind}"));
        std::fs::write(&file, bytes).with_context(|| format!("writing {}", file.display()))?;
        if release {
            precompress(&file, bytes)?;
        }
        hashes.push_str(&format!("{kind}: {hash}\n"));
    }
    copy_public(&root.join("public"), &root.join("target/site"))?;
    let bin_dir = root.join(if release {
        "target/release"
    } else {
        "target/debug"
    });
    std::fs::write(bin_dir.join("hash.txt"), hashes).context("writing hash.txt")?;
    remove_stale(root, &pkg)
}

/// Removes the hashed files that neither the debug nor the release binary links any more (the
/// two share the site folder, so a release build leaves the debug build's files in place).
fn remove_stale(root: &Path, pkg: &Path) -> Result<()> {
    let mut live = Vec::new();
    for bin_dir in ["target/debug", "target/release"] {
        if let Ok(text) = std::fs::read_to_string(root.join(bin_dir).join("hash.txt")) {
            live.extend(
                text.lines()
                    .filter_map(|l| l.split_once(':'))
                    .map(|(_, h)| h.trim().to_string()),
            );
        }
    }
    for entry in std::fs::read_dir(pkg)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let hash = name.split('.').nth(1).unwrap_or_default();
        if entry.file_type()?.is_file() && !live.iter().any(|h| h == hash) {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// 16 bytes of SHA-256, URL-safe base64: 22 characters that change whenever the content does.
fn content_hash(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&Sha256::digest(bytes)[..16])
}

/// binaryen's optimiser, as cargo-leptos runs it, from `tools/node_modules` (npm's binaryen,
/// installed by `scripts/setup.sh release`), `$WASM_OPT`, or the PATH.
fn wasm_opt(pkg: &Path, wasm: &[u8]) -> Result<Vec<u8>> {
    let root = pkg.ancestors().nth(3).context("the workspace root")?;
    let local = root.join("tools/node_modules/.bin/wasm-opt");
    let exe: PathBuf = match std::env::var_os("WASM_OPT") {
        Some(p) => p.into(),
        None if local.exists() => local,
        None => "wasm-opt".into(),
    };
    let version = Command::new(&exe)
        .arg("--version")
        .output()
        .with_context(|| {
            format!(
                "running {} (install it with `bash scripts/setup.sh release`)",
                exe.display()
            )
        })?;
    let text = String::from_utf8_lossy(&version.stdout);
    let number: u32 = text
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or(0);
    if number < MIN_WASM_OPT {
        bail!(
            "{} is binaryen {number}; hydration needs {MIN_WASM_OPT} or newer \
             (`bash scripts/setup.sh release` installs 132 from npm)",
            exe.display()
        );
    }
    let tmp = pkg.join(".bindgen.wasm");
    std::fs::write(&tmp, wasm)?;
    let status = Command::new(&exe)
        .args([
            "-Oz",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
        ])
        .arg(&tmp)
        .arg("-o")
        .arg(&tmp)
        .status()?;
    if !status.success() {
        bail!("wasm-opt failed");
    }
    let optimised = std::fs::read(&tmp)?;
    std::fs::remove_file(&tmp)?;
    Ok(optimised)
}

/// `file.gz` (gzip, best) and `file.br` (brotli, quality 11) beside `file`.
fn precompress(file: &Path, bytes: &[u8]) -> Result<()> {
    let with = |ext: &str| {
        let mut name = file.as_os_str().to_owned();
        name.push(ext);
        PathBuf::from(name)
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes)?;
    std::fs::write(with(".gz"), gz.finish()?)?;
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 64 * 1024, 11, 22);
        w.write_all(bytes)?;
    }
    std::fs::write(with(".br"), br)?;
    Ok(())
}

/// `public/` (static files served from the site root), without dotfiles.
fn copy_public(from: &Path, to: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_public(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
