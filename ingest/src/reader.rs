use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use tracing::{debug, warn};

use crate::error::{IngestError, Result};
use crate::sources::{
    SourceContext, parse_access_log_line, parse_config_document, parse_json_line,
    parse_plain_text_line, parse_terraform,
};
use crate::{BadInput, Format, Origin, Record, SourceKind, TemplateMiner};

/// Lines longer than this are reported as bad input rather than indexed.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// How to read inputs.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Tenant that owns every record read.
    pub tenant: String,
    /// Format to use instead of detection.
    pub format: Option<Format>,
}

/// What reading a path produced: every good record and every bad input.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Records in file order.
    pub records: Vec<Record>,
    /// What could not be read, with file and line.
    pub bad: Vec<BadInput>,
    /// Files read, with the format used.
    pub files: Vec<(String, Option<Format>)>,
}

/// Reads a file, or every file under a directory (recursively, in name
/// order). Record origins are paths relative to `path` (or its file name),
/// so ids do not depend on where the input sits on disk.
///
/// Log and auth records without a template of their own get one from `miner`.
pub fn read_path(path: &Path, options: &ReadOptions, miner: &mut TemplateMiner) -> Result<Parsed> {
    let metadata = std::fs::metadata(path).map_err(|e| IngestError::io(path, e))?;
    let mut parsed = Parsed::default();
    if metadata.is_dir() {
        let mut files = Vec::new();
        collect_files(path, &mut files)?;
        files.sort();
        for file in files {
            let relative = file.strip_prefix(path).unwrap_or(&file);
            read_file(&file, &source_name(relative), options, miner, &mut parsed);
        }
    } else {
        let name = path.file_name().map(PathBuf::from).unwrap_or_default();
        read_file(path, &source_name(&name), options, miner, &mut parsed);
    }
    Ok(parsed)
}

fn source_name(relative: &Path) -> String {
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| IngestError::io(dir, e))? {
        let entry = entry.map_err(|e| IngestError::io(dir, e))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| IngestError::io(&path, e))?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if file_type.is_dir() {
            collect_files(&path, files)?;
        } else if file_type.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

/// The service a file's records belong to when they name none: its first
/// directory, or its name without extensions.
fn default_service(source: &str) -> String {
    match source.split_once('/') {
        Some((dir, _)) => dir.to_string(),
        None => source.split('.').next().unwrap_or(source).to_string(),
    }
}

fn read_file(
    path: &Path,
    source: &str,
    options: &ReadOptions,
    miner: &mut TemplateMiner,
    parsed: &mut Parsed,
) {
    let bad_at = |line: u64, reason: String| BadInput {
        origin: Origin {
            source: source.to_string(),
            line,
        },
        reason,
    };
    let (bytes, read_error) = read_bytes(path);
    if let Some(reason) = read_error {
        warn!(source, %reason, "input read stopped early");
        let line = bytes.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        parsed.bad.push(bad_at(line, reason));
    }
    if bytes.iter().take(8192).any(|b| *b == 0) {
        parsed.bad.push(bad_at(
            1,
            "binary content: not a log, trace or config format".into(),
        ));
        parsed.files.push((source.to_string(), None));
        return;
    }
    let first_line = bytes
        .split(|b| *b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
        .map(String::from_utf8_lossy);
    let format = options
        .format
        .or_else(|| Format::detect(Path::new(source), first_line.as_deref()));
    parsed.files.push((source.to_string(), format));
    let Some(format) = format else {
        debug!(source, "empty input");
        return;
    };
    let service = default_service(source);
    let ctx = SourceContext {
        tenant: &options.tenant,
        source,
        default_service: &service,
    };
    let before = parsed.records.len();
    match format {
        Format::Terraform | Format::ConfigDocument => {
            let text = String::from_utf8_lossy(&bytes);
            if let std::borrow::Cow::Owned(_) = text {
                parsed
                    .bad
                    .push(bad_at(1, "invalid UTF-8 replaced with U+FFFD".into()));
            }
            if format == Format::Terraform {
                let (records, bad) = parse_terraform(&ctx, &text);
                parsed.records.extend(records);
                parsed.bad.extend(bad);
            } else {
                parsed.records.extend(parse_config_document(&ctx, &text));
            }
        }
        Format::JsonLines | Format::AccessLog | Format::PlainText => {
            let parse_line = match format {
                Format::JsonLines => parse_json_line,
                Format::AccessLog => parse_access_log_line,
                _ => parse_plain_text_line,
            };
            for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
                let line_no = index as u64 + 1;
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                if line.len() > MAX_LINE_BYTES {
                    parsed.bad.push(bad_at(
                        line_no,
                        format!(
                            "line of {} bytes exceeds the {MAX_LINE_BYTES}-byte limit",
                            line.len()
                        ),
                    ));
                    continue;
                }
                let text = match std::str::from_utf8(line) {
                    Ok(text) => text,
                    Err(e) => {
                        parsed.bad.push(bad_at(
                            line_no,
                            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
                        ));
                        continue;
                    }
                };
                match parse_line(&ctx, line_no, text) {
                    Ok(record) => parsed.records.push(record),
                    Err(reason) => parsed.bad.push(bad_at(line_no, reason)),
                }
            }
        }
    }
    for record in &mut parsed.records[before..] {
        if record.template.is_none() && matches!(record.kind, SourceKind::Log | SourceKind::Auth) {
            record.template = Some(miner.add(&record.body));
        }
    }
}

/// Reads a whole file, gunzipping `.gz` (or gzip-magic) content. On a read
/// error (a truncated gzip stream, say) it keeps what was read and says why.
fn read_bytes(path: &Path) -> (Vec<u8>, Option<String>) {
    let mut bytes = Vec::new();
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) => return (bytes, Some(format!("cannot open: {e}"))),
    };
    let mut magic = [0u8; 2];
    let is_gzip = File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == [0x1f, 0x8b];
    let result = if is_gzip {
        MultiGzDecoder::new(file).read_to_end(&mut bytes)
    } else {
        std::io::BufReader::new(file).read_to_end(&mut bytes)
    };
    match result {
        Ok(_) => (bytes, None),
        Err(e) if is_gzip => (
            bytes,
            Some(format!("gzip stream ends early or is corrupt: {e}")),
        ),
        Err(e) => (bytes, Some(format!("read failed: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn options() -> ReadOptions {
        ReadOptions {
            tenant: "acme".into(),
            format: None,
        }
    }

    #[test]
    fn bad_lines_are_reported_and_good_ones_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut content =
            b"{\"ts\":\"2026-11-20T14:00:00Z\",\"msg\":\"ok 1\"}\n{\"ts\":\n".to_vec();
        content.extend_from_slice(b"{\"msg\":\"bad \xff utf8\"}\n");
        content.extend_from_slice(b"{\"ts\":\"2026-11-20T14:00:02Z\",\"msg\":\"ok 2\"}\n");
        std::fs::write(dir.path().join("app.jsonl"), content).expect("write");
        let parsed = read_path(
            &dir.path().join("app.jsonl"),
            &options(),
            &mut TemplateMiner::default(),
        )
        .expect("reads");
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.bad.len(), 2);
        assert_eq!(parsed.bad[0].origin.to_string(), "app.jsonl:2");
        assert!(
            parsed.bad[1].reason.contains("UTF-8"),
            "{:?}",
            parsed.bad[1]
        );
        assert_eq!(parsed.records[1].origin.line, 4);
    }

    #[test]
    fn gzip_and_truncated_gzip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for i in 0..200 {
            writeln!(
                encoder,
                "2026-11-20T14:00:{:02}Z INFO app: tick {i}",
                i % 60
            )
            .expect("write");
        }
        let gz = encoder.finish().expect("finish");
        std::fs::write(dir.path().join("app.log.gz"), &gz).expect("write");
        std::fs::write(dir.path().join("cut.log.gz"), &gz[..gz.len() / 2]).expect("write");
        let parsed =
            read_path(dir.path(), &options(), &mut TemplateMiner::default()).expect("reads");
        let full = parsed
            .records
            .iter()
            .filter(|r| r.origin.source == "app.log.gz")
            .count();
        assert_eq!(full, 200);
        assert!(
            parsed
                .bad
                .iter()
                .any(|b| b.origin.source == "cut.log.gz" && b.reason.contains("gzip"))
        );
        let from_cut = parsed
            .records
            .iter()
            .filter(|r| r.origin.source == "cut.log.gz")
            .count();
        assert!(
            from_cut > 0 && from_cut < 200,
            "kept {from_cut} records from the readable part"
        );
    }

    #[test]
    fn binary_and_empty_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("blob.bin"), [0u8, 1, 2, 0, 159]).expect("write");
        std::fs::write(dir.path().join("empty.log"), b"").expect("write");
        let parsed =
            read_path(dir.path(), &options(), &mut TemplateMiner::default()).expect("reads");
        assert!(parsed.records.is_empty());
        assert_eq!(parsed.bad.len(), 1);
        assert!(parsed.bad[0].reason.contains("binary"));
    }

    #[test]
    fn ids_do_not_depend_on_location_and_templates_are_set() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        for dir in [&a, &b] {
            std::fs::create_dir(dir.path().join("svc")).expect("mkdir");
            std::fs::write(
                dir.path().join("svc/x.log"),
                "2026-11-20T14:00:00Z ERROR db: pool exhausted 40/40\n",
            )
            .expect("write");
        }
        let ra = read_path(a.path(), &options(), &mut TemplateMiner::default()).expect("reads");
        let rb = read_path(b.path(), &options(), &mut TemplateMiner::default()).expect("reads");
        assert_eq!(ra.records[0].id, rb.records[0].id);
        assert_eq!(ra.records[0].service, "svc");
        let template = ra.records[0].template.as_ref().expect("template");
        assert_eq!(template.text, "pool exhausted <*>");
    }

    #[test]
    fn missing_path_is_an_error() {
        assert!(
            read_path(
                Path::new("/nonexistent/oncall"),
                &options(),
                &mut TemplateMiner::default()
            )
            .is_err()
        );
    }
}
