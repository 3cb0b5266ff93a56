//! The local journal (one JSON file per operation, written atomically and durably before
//! anything is deleted) and the audit log (one JSON line per finished operation).
//!
//! Both live in the state directory (`crate::config::paths`), private to the user: the records
//! hold manifests, which may hold secrets in env values.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::progress::OpKind;
use super::record::OpRecord;

/// What failed, and on which file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot create directory {path}: {source}")]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot fsync {path}: {source}")]
    Sync { path: PathBuf, source: io::Error },
    #[error("cannot rename {from} to {to}: {source}")]
    Rename {
        from: PathBuf,
        to: PathBuf,
        source: io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path}: line {line}, column {column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// An id that is not a plain file name would write outside the journal.
    #[error("invalid operation id {id:?}: expected letters, digits, '-', '_' and '.' only")]
    BadId { id: String },
}

/// The journal directory: `<dir>/<operation id>.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    pub fn new(dir: PathBuf) -> Journal {
        Journal { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<dir>/<id>.json`.
    pub fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Writes `rec` atomically and durably: directory created 0700, `<id>.json.tmp` written (0600)
    /// and fsynced, renamed over `<id>.json`, directory fsynced. A crash at any point leaves the
    /// old record or the new one, never a torn one; once this returns, the record survives a
    /// power cut.
    pub fn write(&self, rec: &OpRecord) -> Result<PathBuf, JournalError> {
        self.write_inner(rec, true)
    }

    /// As [`Journal::write`] (atomic: the old record or the new, never a torn one) but without
    /// fsync: a killed process loses nothing (the page cache outlives it), a machine crash may
    /// bring back the previous record. For records recovery does not depend on; each fsync
    /// costs 2-20 ms on a busy disk.
    pub fn write_cached(&self, rec: &OpRecord) -> Result<PathBuf, JournalError> {
        self.write_inner(rec, false)
    }

    fn write_inner(&self, rec: &OpRecord, durable: bool) -> Result<PathBuf, JournalError> {
        check_id(&rec.id)?;
        create_private_dir(&self.dir)?;
        let path = self.path_of(&rec.id);
        let tmp = self.dir.join(format!("{}.json.tmp", rec.id));
        let mut body = serde_json::to_vec_pretty(rec).map_err(|e| JournalError::Write {
            path: tmp.clone(),
            source: io::Error::other(e),
        })?;
        body.push(b'\n');
        // A leftover from a crash may have other permissions; create_new below sets 0600 only
        // on a file it creates.
        match fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(JournalError::Write {
                    path: tmp,
                    source: e,
                });
            }
            _ => {}
        }
        let write_err = |source| JournalError::Write {
            path: tmp.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(write_err)?;
        file.write_all(&body).map_err(write_err)?;
        if durable {
            file.sync_all().map_err(|source| JournalError::Sync {
                path: tmp.clone(),
                source,
            })?;
        }
        drop(file);
        fs::rename(&tmp, &path).map_err(|source| JournalError::Rename {
            from: tmp.clone(),
            to: path.clone(),
            source,
        })?;
        if durable {
            sync_dir(&self.dir)?;
        }
        Ok(path)
    }

    pub fn read(&self, id: &str) -> Result<OpRecord, JournalError> {
        check_id(id)?;
        read_record(&self.path_of(id))
    }

    /// Every record, newest first (by start time, then id). Files that cannot be read or parsed
    /// come back as errors beside them: never fatal, never deleted (they may be the only copy
    /// of a backup). Stray `*.json.tmp` files from a crash are ignored. No directory yet is an
    /// empty journal.
    pub fn list(&self) -> (Vec<OpRecord>, Vec<JournalError>) {
        let mut records = Vec::new();
        let mut errors = Vec::new();
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return (records, errors),
            Err(source) => {
                errors.push(JournalError::Read {
                    path: self.dir.clone(),
                    source,
                });
                return (records, errors);
            }
        };
        for entry in entries {
            let path = match entry {
                Ok(e) => e.path(),
                Err(source) => {
                    errors.push(JournalError::Read {
                        path: self.dir.clone(),
                        source,
                    });
                    continue;
                }
            };
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match read_record(&path) {
                Ok(r) => records.push(r),
                Err(e) => errors.push(e),
            }
        }
        records.sort_by(|a, b| b.started.cmp(&a.started).then_with(|| b.id.cmp(&a.id)));
        (records, errors)
    }
}

/// Ids are made by `OpRecord::make_id`; anything with a path separator or starting with a dot is
/// refused rather than joined onto the directory.
fn check_id(id: &str) -> Result<(), JournalError> {
    let ok = !id.is_empty()
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(JournalError::BadId { id: id.to_string() })
    }
}

fn read_record(path: &Path) -> Result<OpRecord, JournalError> {
    let text = fs::read_to_string(path).map_err(|source| JournalError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| parse_error(path, e.line(), &e))
}

/// serde_json ends its messages with the position, which the error shows in front already.
fn parse_error(path: &Path, line: usize, e: &serde_json::Error) -> JournalError {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    JournalError::Parse {
        path: path.to_path_buf(),
        line,
        column: e.column(),
        message: message
            .strip_suffix(&suffix)
            .unwrap_or(&message)
            .to_string(),
    }
}

/// Creates `dir` and its missing parents with mode 0700 (existing ones are left as they are:
/// they may be the user's own directories).
fn create_private_dir(dir: &Path) -> Result<(), JournalError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| JournalError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    let err = |source| JournalError::Sync {
        path: dir.to_path_buf(),
        source,
    };
    File::open(dir).map_err(err)?.sync_all().map_err(err)
}

/// One line of the audit log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditEntry {
    pub time: Timestamp,
    /// `user@host/pid`, as in the lease.
    pub holder: String,
    /// The user the kubeconfig authenticates as.
    pub kube_user: String,
    pub context: String,
    pub server: String,
    pub op_id: String,
    pub op: OpKind,
    /// `namespace/name`.
    pub endpoint: String,
    /// `succeeded`, `failed`, ... (`OpResult` as JSON names it).
    pub result: String,
    pub message: String,
    pub elapsed_ms: u64,
}

/// Appends `entry` as one JSON line: parent directories created 0700, the file 0600, opened
/// `O_APPEND` and locked (`flock`) for the write so concurrent writers, in this process or
/// others, never interleave within a line; fsynced before returning.
pub fn append_audit(path: &Path, entry: &AuditEntry) -> Result<(), JournalError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(parent)?;
    }
    let write_err = |source| JournalError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut line = serde_json::to_vec(entry).map_err(|e| write_err(io::Error::other(e)))?;
    line.push(b'\n');
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(write_err)?;
    // O_APPEND alone keeps each write() whole on local filesystems, but write_all may split a
    // line over several calls and NFS does not honour O_APPEND; the lock covers both.
    file.lock().map_err(write_err)?;
    // A writer that crashed mid-line left no newline: start on a fresh line, so only the torn
    // entry is lost and not this one too.
    let len = file.metadata().map_err(write_err)?.len();
    if len > 0 {
        let mut last = [0u8; 1];
        file.read_exact_at(&mut last, len - 1).map_err(write_err)?;
        if last[0] != b'\n' {
            line.insert(0, b'\n');
        }
    }
    file.write_all(&line).map_err(write_err)?;
    file.sync_data().map_err(|source| JournalError::Sync {
        path: path.to_path_buf(),
        source,
    })
    // Closing the file releases the lock.
}

/// Every entry of the audit log, oldest first; the first line that does not parse is an error
/// naming its line. No file yet is an empty log.
pub fn read_audit(path: &Path) -> Result<Vec<AuditEntry>, JournalError> {
    let (entries, mut errors) = read_audit_lenient(path);
    match errors.is_empty() {
        true => Ok(entries),
        false => Err(errors.remove(0)),
    }
}

/// Like [`read_audit`], but a line that does not parse (a torn last line after a crash, a line
/// edited by hand) is reported beside the others instead of hiding them.
pub fn read_audit_lenient(path: &Path) -> (Vec<AuditEntry>, Vec<JournalError>) {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return (Vec::new(), Vec::new()),
        Err(source) => {
            let e = JournalError::Read {
                path: path.to_path_buf(),
                source,
            };
            return (Vec::new(), vec![e]);
        }
    };
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(e) => entries.push(e),
            Err(e) => errors.push(parse_error(path, i + 1, &e)),
        }
    }
    (entries, errors)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;

    use super::*;
    use crate::orchestrator::progress::Step;
    use crate::orchestrator::record::{EndpointId, OpState};

    pub(crate) fn record(id: &str, started: &str) -> OpRecord {
        let t: Timestamp = started.parse().expect("timestamp");
        OpRecord {
            id: id.to_string(),
            kind: OpKind::Redeploy,
            endpoint: EndpointId {
                namespace: "prod".into(),
                name: "web".into(),
                mode: None,
            },
            holder: "ops@host/1".into(),
            context: "ctx".into(),
            server: "https://k8s".into(),
            cluster_uid: None,
            started: t,
            updated: t,
            state: OpState::Running,
            step: Step::Snapshot,
            backup: vec![serde_json::json!({"kind": "Deployment", "metadata": {"name": "web"}})],
            old_objects: Vec::new(),
            decided: None,
            overrides: vec!["image=x".into()],
            created: Vec::new(),
            steps: Vec::new(),
            adopted_from: None,
            result: None,
        }
    }

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn write_then_read_round_trips_with_private_permissions() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let j = Journal::new(tmp.path().join("state/journal"));
        let rec = record(
            "redeploy-web-20261126T093812345Z-42",
            "2026-11-26T09:38:12Z",
        );
        let path = j.write(&rec).expect("write");
        assert_eq!(path, j.path_of(&rec.id));
        assert_eq!(
            path,
            tmp.path()
                .join("state/journal/redeploy-web-20261126T093812345Z-42.json")
        );
        assert_eq!(j.read(&rec.id).expect("read"), rec);
        assert_eq!(mode(j.dir()), 0o700);
        assert_eq!(mode(&tmp.path().join("state")), 0o700);
        assert_eq!(mode(&path), 0o600);
        assert!(!j.dir().join(format!("{}.json.tmp", rec.id)).exists());
    }

    #[test]
    fn cached_writes_are_whole_records_too() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let j = Journal::new(tmp.path().join("journal"));
        let mut rec = record("op-2", "2026-11-26T09:38:12Z");
        rec.backup = (0..50).map(|i| serde_json::json!({"n": i})).collect();
        let path = j.write_cached(&rec).expect("cached write");
        assert_eq!(j.read("op-2").expect("read"), rec);
        rec.backup.truncate(1);
        j.write_cached(&rec).expect("cached overwrite");
        assert_eq!(j.read("op-2").expect("read"), rec);
        assert_eq!(mode(&path), 0o600);
        assert!(!j.dir().join("op-2.json.tmp").exists());
    }

    #[test]
    fn overwrite_replaces_the_whole_record() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let j = Journal::new(tmp.path().to_path_buf());
        let mut rec = record("op-1", "2026-11-26T09:38:12Z");
        rec.backup = (0..200).map(|i| serde_json::json!({"n": i})).collect();
        j.write(&rec).expect("first write");
        // A shorter record must not leave the tail of the longer one behind.
        rec.backup.clear();
        rec.state = OpState::Succeeded;
        // A stale temp file of a crashed write, with loose permissions, is replaced.
        let stale = j.dir().join("op-1.json.tmp");
        fs::write(&stale, "{torn").expect("stale");
        fs::set_permissions(&stale, fs::Permissions::from_mode(0o644)).expect("chmod");
        let path = j.write(&rec).expect("second write");
        assert_eq!(j.read("op-1").expect("read"), rec);
        assert_eq!(mode(&path), 0o600);
        assert!(!stale.exists());
    }

    #[test]
    fn list_is_newest_first_and_reports_bad_files_without_touching_them() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let j = Journal::new(tmp.path().to_path_buf());
        assert!(j.list().0.is_empty() && j.list().1.is_empty());
        j.write(&record("op-old", "2026-11-01T00:00:00Z"))
            .expect("w");
        j.write(&record("op-new", "2026-11-03T00:00:00Z"))
            .expect("w");
        j.write(&record("op-mid", "2026-11-02T00:00:00Z"))
            .expect("w");
        let corrupt = j.dir().join("op-bad.json");
        fs::write(&corrupt, "{\n  \"id\": \"op-bad\",\n  oops\n}").expect("corrupt");
        fs::write(j.dir().join("op-x.json.tmp"), "{torn").expect("tmp");
        fs::write(j.dir().join("notes.txt"), "hello").expect("txt");

        let (records, errors) = j.list();
        let ids: Vec<_> = records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["op-new", "op-mid", "op-old"]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        match &errors[0] {
            JournalError::Parse {
                path, line, column, ..
            } => {
                assert_eq!(path, &corrupt);
                assert_eq!((*line, *column), (3, 3));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            errors[0]
                .to_string()
                .starts_with(&format!("{}: line 3, column 3: ", corrupt.display()))
        );
        assert!(corrupt.exists(), "never deleted");
        assert!(matches!(
            j.read("op-missing"),
            Err(JournalError::Read { .. })
        ));
    }

    #[test]
    fn ids_that_are_not_file_names_are_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let j = Journal::new(tmp.path().join("j"));
        for id in ["../evil", "a/b", "", ".hidden"] {
            assert!(
                matches!(j.read(id), Err(JournalError::BadId { .. })),
                "{id}"
            );
            assert!(matches!(
                j.write(&record(id, "2026-11-01T00:00:00Z")),
                Err(JournalError::BadId { .. })
            ));
        }
        assert!(!tmp.path().join("evil.json").exists());
    }

    #[test]
    fn unwritable_directories_name_the_path() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = tmp.path().join("not-a-dir");
        fs::write(&file, "x").expect("file");
        let j = Journal::new(file.join("journal"));
        let e = j
            .write(&record("op-1", "2026-11-01T00:00:00Z"))
            .expect_err("cannot create");
        assert!(
            matches!(&e, JournalError::CreateDir { path, .. } if path == &file.join("journal")),
            "{e:?}"
        );
        assert!(e.to_string().contains("not-a-dir/journal"), "{e}");
    }

    fn entry(i: usize) -> AuditEntry {
        AuditEntry {
            time: "2026-11-26T09:38:12Z".parse().expect("ts"),
            holder: format!("ops@host/{i}"),
            kube_user: "alice".into(),
            context: "prod".into(),
            server: "https://k8s".into(),
            op_id: format!("redeploy-web-{i}"),
            op: OpKind::Redeploy,
            endpoint: "prod/web".into(),
            result: "succeeded".into(),
            // Long enough that a torn write would show.
            message: "x".repeat(3000 + i),
            elapsed_ms: i as u64,
        }
    }

    #[test]
    fn audit_appends_are_line_intact_under_concurrent_writers() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = Arc::new(tmp.path().join("state/audit.log"));
        assert_eq!(read_audit(&path).expect("no log yet"), vec![]);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        append_audit(&path, &entry(t * 100 + i)).expect("append");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let mut got = read_audit(&path).expect("read");
        assert_eq!(got.len(), 200);
        got.sort_by_key(|e| e.elapsed_ms);
        for (t, chunk) in got.chunks(25).enumerate() {
            for (i, e) in chunk.iter().enumerate() {
                assert_eq!(e, &entry(t * 100 + i));
            }
        }
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&tmp.path().join("state")), 0o700);
    }

    #[test]
    fn a_torn_audit_line_is_named_and_the_rest_still_read() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("audit.log");
        append_audit(&path, &entry(1)).expect("append");
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(b"{\"time\":\"2026").expect("torn");
        drop(f);
        let e = read_audit(&path).expect_err("torn line");
        assert!(matches!(e, JournalError::Parse { line: 2, .. }), "{e:?}");
        // The next append starts a fresh line: only the torn entry is lost.
        append_audit(&path, &entry(3)).expect("append after torn");
        let (entries, errors) = read_audit_lenient(&path);
        assert_eq!(entries, vec![entry(1), entry(3)]);
        assert_eq!(errors.len(), 1, "{errors:?}");
    }
}
