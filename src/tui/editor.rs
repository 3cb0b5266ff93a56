//! Running `$VISUAL` / `$EDITOR` (default `vi`) on a private temp file while the console steps
//! aside: the file is created 0600 (a spec may hold credentials in env values), the terminal is
//! given back for the editor and taken again after, and the file is removed whatever happened.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::cluster::model::EndpointKey;

/// The editor command: `$VISUAL`, else `$EDITOR`, else `vi`, split into program and arguments
/// (`code --wait` works).
pub fn editor_command(visual: Option<&str>, editor: Option<&str>) -> Vec<String> {
    let chosen = [visual, editor]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or("vi");
    chosen.split_whitespace().map(str::to_string).collect()
}

/// `llmops-console-edit-<ns>-<name>-<pid>-<n>.yaml` in the temp dir; only name-safe characters,
/// and `.yaml` so the editor highlights it.
pub fn temp_path(dir: &Path, endpoint: &EndpointKey) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .take(60)
            .collect()
    };
    dir.join(format!(
        "llmops-console-edit-{}-{}-{}-{}.yaml",
        safe(&endpoint.namespace),
        safe(&endpoint.name),
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Creates `path` (it must not exist) readable by the owner only, with `text`.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// Runs the editor on `path` and waits for it. The terminal must be suspended by the caller.
pub async fn run_editor(command: &[String], path: &Path) -> Result<(), String> {
    let Some((program, args)) = command.split_first() else {
        return Err("no editor command".into());
    };
    let status = tokio::process::Command::new(program)
        .args(args)
        .arg(path)
        .status()
        .await
        .map_err(|e| format!("cannot run the editor {program:?} ($VISUAL / $EDITOR): {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "the editor {program:?} exited with {status}; nothing changed"
        ))
    }
}

/// Writes `yaml` to a private temp file, runs `command` on it via `suspended` (which gives the
/// terminal away around the editor), and returns the file's text. The file is removed in every
/// case.
pub async fn edit_text<F, Fut>(
    endpoint: &EndpointKey,
    yaml: &str,
    command: &[String],
    suspended: F,
) -> Result<String, String>
where
    F: FnOnce(Vec<String>, PathBuf) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let path = temp_path(&std::env::temp_dir(), endpoint);
    write_private(&path, yaml)
        .map_err(|e| format!("cannot write the temp file {}: {e}", path.display()))?;
    let ran = suspended(command.to_vec(), path.clone()).await;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read back {}: {e}", path.display()));
    let _ = std::fs::remove_file(&path);
    ran?;
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::model::Mode;

    fn key() -> EndpointKey {
        EndpointKey {
            namespace: "serving".into(),
            name: "llama/../prod".into(),
            mode: Mode::Kserve,
        }
    }

    #[test]
    fn editor_choice_and_split() {
        assert_eq!(editor_command(None, None), ["vi"]);
        assert_eq!(editor_command(Some(" "), Some("nano")), ["nano"]);
        assert_eq!(
            editor_command(Some("code --wait"), Some("nano")),
            ["code", "--wait"]
        );
    }

    #[test]
    fn temp_file_is_private_and_name_safe() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let p = temp_path(dir.path(), &key());
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        assert!(
            name.starts_with("llmops-console-edit-serving-llama_.._prod-"),
            "{name}"
        );
        assert!(name.ends_with(".yaml"));
        write_private(&p, "a: 1\n").unwrap_or_else(|e| panic!("write: {e}"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600));
        }
        // Never overwrites an existing file.
        assert!(write_private(&p, "b: 2\n").is_err());
    }

    #[tokio::test]
    async fn edited_text_comes_back_and_the_file_goes() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let s = seen.clone();
        let out = edit_text(&key(), "a: 1\n", &["true".into()], |_, path| async move {
            let _ = std::fs::write(&path, "a: 2\n");
            *s.lock().unwrap_or_else(|p| p.into_inner()) = Some(path);
            Ok(())
        })
        .await;
        assert_eq!(out.as_deref(), Ok("a: 2\n"));
        let path = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert!(path.is_some_and(|p| !p.exists()));
        let failed = edit_text(
            &key(),
            "a: 1\n",
            &["false".into()],
            |cmd, path| async move { run_editor(&cmd, &path).await },
        )
        .await;
        assert!(failed.is_err_and(|e| e.contains("exited with")));
    }
}
