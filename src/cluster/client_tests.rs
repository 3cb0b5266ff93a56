use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::*;

fn kubeconfig(current: &str, contexts: &[(&str, &str, Option<&str>)]) -> String {
    let mut s = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    for (_, cluster, _) in contexts {
        s.push_str(&format!(
            "- name: {cluster}\n  cluster:\n    server: https://{cluster}.example:6443\n"
        ));
    }
    s.push_str("contexts:\n");
    for (name, cluster, ns) in contexts {
        s.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {cluster}\n    user: u-{name}\n"
        ));
        if let Some(ns) = ns {
            s.push_str(&format!("    namespace: {ns}\n"));
        }
    }
    s.push_str("users:\n");
    for (name, _, _) in contexts {
        s.push_str(&format!("- name: u-{name}\n  user:\n    token: t\n"));
    }
    if !current.is_empty() {
        s.push_str(&format!("current-context: {current}\n"));
    }
    s
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn explicit_flag_wins_over_env_and_home() {
    let env = OsString::from("/a:/b");
    let src = kubeconfig_source(
        Some(Path::new("/x")),
        Some(env.as_os_str()),
        Some(Path::new("/home/u")),
    );
    assert_eq!(src, Some(KubeconfigSource::Explicit("/x".into())));
    let src = kubeconfig_source(None, Some(env.as_os_str()), Some(Path::new("/home/u")));
    assert_eq!(
        src,
        Some(KubeconfigSource::EnvList(vec!["/a".into(), "/b".into()]))
    );
    let empty = OsString::from("");
    let src = kubeconfig_source(None, Some(empty.as_os_str()), Some(Path::new("/home/u")));
    assert_eq!(
        src,
        Some(KubeconfigSource::Default("/home/u/.kube/config".into()))
    );
}

#[test]
fn env_list_merges_first_wins_and_skips_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a",
        &kubeconfig("prod", &[("prod", "c1", Some("llm-prod"))]),
    );
    let b = write(
        dir.path(),
        "b",
        &kubeconfig("staging", &[("staging", "c2", None), ("prod", "c9", None)]),
    );
    let missing = dir.path().join("missing");
    let src = KubeconfigSource::EnvList(vec![a.clone(), missing, b.clone()]);
    let (kc, files) = load_kubeconfig(&src).unwrap();
    assert_eq!(files, vec![a, b]);
    // current-context and the `prod` context come from the first file.
    let r = resolve_context(&kc, &ClusterTarget::default(), &files).unwrap();
    assert_eq!(r.context, "prod");
    assert_eq!(r.server, "https://c1.example:6443");
    assert_eq!(r.user, "u-prod");
    assert_eq!(r.scope, Scope::Namespace("llm-prod".into()));
    // --context picks the second file's context; no namespace there means `default`.
    let t = ClusterTarget {
        context: Some("staging".into()),
        ..Default::default()
    };
    let r = resolve_context(&kc, &t, &files).unwrap();
    assert_eq!(
        (r.server.as_str(), r.scope),
        (
            "https://c2.example:6443",
            Scope::Namespace("default".into())
        )
    );
    // -n and -A override the context's namespace.
    let t = ClusterTarget {
        namespace: Some(Scope::All),
        ..Default::default()
    };
    assert_eq!(resolve_context(&kc, &t, &files).unwrap().scope, Scope::All);
}

#[test]
fn errors_name_the_file_and_the_context() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.yaml");
    let err = load_kubeconfig(&KubeconfigSource::Explicit(missing.clone()))
        .unwrap_err()
        .to_string();
    assert!(err.contains(&missing.display().to_string()), "{err}");

    let bad = write(dir.path(), "bad", "clusters: [ {");
    let err = load_kubeconfig(&KubeconfigSource::Explicit(bad.clone()))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("kubeconfig {}", bad.display())),
        "{err}"
    );

    let err = load_kubeconfig(&KubeconfigSource::EnvList(vec![missing.clone()]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("KUBECONFIG=") && err.contains("nope.yaml"),
        "{err}"
    );

    let ok = write(dir.path(), "ok", &kubeconfig("a", &[("a", "c1", None)]));
    let (kc, files) = load_kubeconfig(&KubeconfigSource::Explicit(ok.clone())).unwrap();
    let t = ClusterTarget {
        context: Some("prod".into()),
        ..Default::default()
    };
    let err = resolve_context(&kc, &t, &files).unwrap_err().to_string();
    assert!(
        err.contains("\"prod\" not found") && err.contains(&ok.display().to_string()),
        "{err}"
    );
    assert!(err.contains("known contexts: \"a\""), "{err}");

    let none = write(dir.path(), "none", &kubeconfig("", &[("a", "c1", None)]));
    let (kc, files) = load_kubeconfig(&KubeconfigSource::Explicit(none)).unwrap();
    let err = resolve_context(&kc, &ClusterTarget::default(), &files)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no current-context"), "{err}");
}

#[test]
fn a_context_without_its_cluster_is_named() {
    let text = "apiVersion: v1\nkind: Config\ncontexts:\n- name: x\n  context:\n    cluster: gone\ncurrent-context: x\n";
    let kc = Kubeconfig::from_yaml(text).unwrap();
    let err = resolve_context(&kc, &ClusterTarget::default(), &["/k".into()])
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "context \"x\" in kubeconfig /k: its cluster \"gone\" is not defined"
    );
}
