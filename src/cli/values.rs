//! Values typed on the command line: endpoint and object references, `--set` overrides, scenario
//! names, operation ids. Each parser refuses a bad value with a message that names it and shows
//! the expected form, so a typo is exit code 2 before anything touches a cluster.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::util::duration::parse_duration;

/// A command-line value that does not have the expected shape. The message is complete: it names
/// the value (escaped) and says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InputError(String);

/// The value as the user typed it, with control characters escaped so they never reach the
/// terminal raw.
fn quoted(value: &str) -> String {
    format!("'{}'", value.escape_debug())
}

const NAMESPACE_RULE: &str = "a namespace is lowercase letters, digits and '-', starts and ends \
with a letter or digit, and has at most 63 characters";
const NAME_RULE: &str = "a name is lowercase letters, digits, '-' and '.', starts and ends with a \
letter or digit, and has at most 253 characters";
const KIND_RULE: &str = "a kind starts with a letter and has letters, digits and '.' (e.g. \
Deployment, pod, isvc, deployments.apps)";

fn is_alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// DNS-1123 label, the rule for namespaces.
fn is_dns_label(s: &str) -> bool {
    let (Some(first), Some(last)) = (s.chars().next(), s.chars().last()) else {
        return false;
    };
    s.len() <= 63
        && is_alnum_lower(first)
        && is_alnum_lower(last)
        && s.chars().all(|c| is_alnum_lower(c) || c == '-')
}

/// DNS-1123 subdomain, the rule for most object names (Deployment, Service, InferenceService...).
fn is_dns_subdomain(s: &str) -> bool {
    let (Some(first), Some(last)) = (s.chars().next(), s.chars().last()) else {
        return false;
    };
    s.len() <= 253
        && is_alnum_lower(first)
        && is_alnum_lower(last)
        && s.chars().all(|c| is_alnum_lower(c) || c == '-' || c == '.')
}

fn is_kind(s: &str) -> bool {
    s.len() <= 253
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
}

/// Checks a namespace given alone (`-n NS`).
pub fn parse_namespace(value: &str) -> Result<String, InputError> {
    if is_dns_label(value) {
        Ok(value.to_string())
    } else {
        Err(InputError(format!(
            "invalid namespace {}: {NAMESPACE_RULE}",
            quoted(value)
        )))
    }
}

/// Checks an object name given alone (`--name N`).
pub fn parse_object_name(value: &str) -> Result<String, InputError> {
    if is_dns_subdomain(value) {
        Ok(value.to_string())
    } else {
        Err(InputError(format!(
            "invalid name {}: {NAME_RULE}",
            quoted(value)
        )))
    }
}

/// Checks a kind given alone (`--kind K`). Which kinds exist is the cluster's to say; this only
/// refuses what cannot be a kind.
pub fn parse_kind(value: &str) -> Result<String, InputError> {
    if is_kind(value) {
        Ok(value.to_string())
    } else {
        Err(InputError(format!(
            "invalid kind {}: {KIND_RULE}",
            quoted(value)
        )))
    }
}

fn check_part(
    whole: &str,
    what: &str,
    part: &str,
    ok: fn(&str) -> bool,
    rule: &str,
) -> Result<(), InputError> {
    if ok(part) {
        Ok(())
    } else {
        Err(InputError(format!(
            "invalid {what} {} in {}: {rule}",
            quoted(part),
            quoted(whole)
        )))
    }
}

/// An endpoint named on the command line as `NAMESPACE/NAME`.
///
/// ```
/// use llmops_console::cli::EndpointRef;
///
/// let endpoint: EndpointRef = "llm-prod/llama-3-70b".parse().unwrap();
/// assert_eq!((endpoint.namespace.as_str(), endpoint.name.as_str()), ("llm-prod", "llama-3-70b"));
/// assert!("llama-3-70b".parse::<EndpointRef>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EndpointRef {
    pub namespace: String,
    pub name: String,
}

impl FromStr for EndpointRef {
    type Err = InputError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = value.split('/').collect();
        let [namespace, name] = parts.as_slice() else {
            return Err(InputError(format!(
                "expected NAMESPACE/NAME (e.g. llm-prod/llama-3-70b), got {}",
                quoted(value)
            )));
        };
        check_part(value, "namespace", namespace, is_dns_label, NAMESPACE_RULE)?;
        check_part(value, "name", name, is_dns_subdomain, NAME_RULE)?;
        Ok(Self {
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }
}

impl fmt::Display for EndpointRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// One object named on the command line as `NAMESPACE/KIND/NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    pub namespace: String,
    /// As typed (`Deployment`, `pod`, `isvc`); resolving it to an API resource is the cluster's job.
    pub kind: String,
    pub name: String,
}

impl FromStr for ObjectRef {
    type Err = InputError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = value.split('/').collect();
        let [namespace, kind, name] = parts.as_slice() else {
            return Err(InputError(format!(
                "expected NAMESPACE/KIND/NAME (e.g. llm-prod/InferenceService/llama-3-70b), got {}",
                quoted(value)
            )));
        };
        check_part(value, "namespace", namespace, is_dns_label, NAMESPACE_RULE)?;
        check_part(value, "kind", kind, is_kind, KIND_RULE)?;
        check_part(value, "name", name, is_dns_subdomain, NAME_RULE)?;
        Ok(Self {
            namespace: namespace.to_string(),
            kind: kind.to_string(),
            name: name.to_string(),
        })
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.namespace, self.kind, self.name)
    }
}

/// One `--set KEY=VALUE`. Only the shape is checked here; which keys exist (image, replicas,
/// env.NAME, ...) is the orchestrator's to decide and to refuse.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SetOverride {
    pub key: String,
    /// Everything after the first `=`, possibly empty.
    pub value: String,
}

impl FromStr for SetOverride {
    type Err = InputError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let Some((key, val)) = value.split_once('=') else {
            return Err(InputError(format!(
                "expected KEY=VALUE (e.g. image=vllm/vllm-openai:v0.9.1), got {}",
                quoted(value)
            )));
        };
        let key_ok = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '[' | ']'));
        if !key_ok {
            return Err(InputError(format!(
                "invalid key {} in {}: a key is letters, digits, '.', '_', '-', '[' and ']'",
                quoted(key),
                quoted(value)
            )));
        }
        Ok(Self {
            key: key.to_string(),
            value: val.to_string(),
        })
    }
}

/// A simulator scenario: the name of a built-in one (`healthy`) or a YAML file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScenarioSpec {
    /// A built-in scenario by name; whether it exists is for the simulator to say.
    Builtin(String),
    /// A scenario file: the value contained a `/` or ended in `.yaml`/`.yml`.
    File(PathBuf),
}

impl FromStr for ScenarioSpec {
    type Err = InputError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.contains('/') || value.ends_with(".yaml") || value.ends_with(".yml") {
            return Ok(Self::File(PathBuf::from(value)));
        }
        if is_dns_label(value) {
            Ok(Self::Builtin(value.to_string()))
        } else {
            Err(InputError(format!(
                "invalid scenario {}: give a built-in scenario name (e.g. healthy, \
                 stuck-finalizer) or the path of a .yaml file",
                quoted(value)
            )))
        }
    }
}

impl fmt::Display for ScenarioSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Builtin(name) => f.write_str(name),
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// An operation id from `recover --list`. It names files in the journal, so it may not contain
/// path separators.
pub fn parse_op_id(value: &str) -> Result<String, InputError> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && !value.starts_with('.')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(value.to_string())
    } else {
        Err(InputError(format!(
            "invalid operation id {}: use an id printed by `recover --list` \
             (letters, digits, '-', '_' and '.')",
            quoted(value)
        )))
    }
}

/// A deadline: a duration ([`parse_duration`]) that is more than zero.
pub fn parse_deadline(value: &str) -> Result<Duration, String> {
    let duration = parse_duration(value).map_err(|e| e.to_string())?;
    if duration.is_zero() {
        return Err(format!(
            "invalid deadline {}: it must be more than zero",
            quoted(value)
        ));
    }
    Ok(duration)
}

/// The simulator's listen address. It serves without authentication, so only loopback.
pub fn parse_loopback_addr(value: &str) -> Result<SocketAddr, InputError> {
    let addr: SocketAddr = value.parse().map_err(|_| {
        InputError(format!(
            "invalid listen address {}: expected IP:PORT, e.g. 127.0.0.1:0 (port 0 picks a free one)",
            quoted(value)
        ))
    })?;
    if !addr.ip().is_loopback() {
        return Err(InputError(format!(
            "refusing listen address {}: the simulator has no authentication and only listens on \
             loopback (127.0.0.0/8 or [::1])",
            quoted(value)
        )));
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err<T: fmt::Debug, E: ToString>(result: Result<T, E>) -> String {
        match result {
            Ok(value) => panic!("accepted: {value:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn endpoint_ref_reads_namespace_and_name() {
        let r: EndpointRef = "llm-prod/llama-3.1-70b".parse().expect("valid");
        assert_eq!(r.namespace, "llm-prod");
        assert_eq!(r.name, "llama-3.1-70b");
        assert_eq!(r.to_string(), "llm-prod/llama-3.1-70b");
    }

    #[test]
    fn endpoint_ref_refuses_wrong_shapes_naming_the_value() {
        for bad in ["badname", "", "/", "a/b/c", "ns/", "/name"] {
            let message = err(bad.parse::<EndpointRef>());
            assert!(message.contains(&format!("'{bad}'")), "{message}");
        }
        assert!(err("badname".parse::<EndpointRef>()).contains("expected NAMESPACE/NAME"));
    }

    #[test]
    fn endpoint_ref_says_which_part_is_wrong() {
        let message = err("Prod/llama".parse::<EndpointRef>());
        assert!(
            message.starts_with("invalid namespace 'Prod' in 'Prod/llama'"),
            "{message}"
        );
        let message = err("prod/Llama_3".parse::<EndpointRef>());
        assert!(
            message.starts_with("invalid name 'Llama_3' in 'prod/Llama_3'"),
            "{message}"
        );
        let message = err("prod/-x".parse::<EndpointRef>());
        assert!(
            message.contains("starts and ends with a letter or digit"),
            "{message}"
        );
        let long_ns = "a".repeat(64);
        let message = err(format!("{long_ns}/x").parse::<EndpointRef>());
        assert!(message.contains("at most 63"), "{message}");
    }

    #[test]
    fn endpoint_ref_escapes_control_characters() {
        let message = err("ns/\u{1b}]0;pwned\u{7}".parse::<EndpointRef>());
        assert!(
            !message.contains('\u{1b}') && !message.contains('\u{7}'),
            "{message:?}"
        );
    }

    #[test]
    fn object_ref_reads_three_parts() {
        let r: ObjectRef = "llm-prod/InferenceService/llama".parse().expect("valid");
        assert_eq!(
            (r.namespace.as_str(), r.kind.as_str(), r.name.as_str()),
            ("llm-prod", "InferenceService", "llama")
        );
        assert_eq!(r.to_string(), "llm-prod/InferenceService/llama");
        let r: ObjectRef = "ns/deployments.apps/web".parse().expect("valid");
        assert_eq!(r.kind, "deployments.apps");
    }

    #[test]
    fn object_ref_refuses_wrong_shapes() {
        let message = err("ns/llama".parse::<ObjectRef>());
        assert!(
            message.contains("expected NAMESPACE/KIND/NAME") && message.contains("'ns/llama'"),
            "{message}"
        );
        let message = err("ns/9pod/x".parse::<ObjectRef>());
        assert!(message.starts_with("invalid kind '9pod'"), "{message}");
        let message = err("ns/pod/x/y".parse::<ObjectRef>());
        assert!(message.contains("'ns/pod/x/y'"), "{message}");
    }

    #[test]
    fn single_parts() {
        assert_eq!(
            parse_namespace("kserve-test"),
            Ok("kserve-test".to_string())
        );
        assert!(err(parse_namespace("a.b")).starts_with("invalid namespace 'a.b'"));
        assert_eq!(parse_object_name("x.y-1"), Ok("x.y-1".to_string()));
        assert!(err(parse_object_name("")).starts_with("invalid name ''"));
        assert_eq!(parse_kind("Pod"), Ok("Pod".to_string()));
        assert!(err(parse_kind("po d")).starts_with("invalid kind 'po d'"));
    }

    #[test]
    fn set_override_splits_at_the_first_equals() {
        let o: SetOverride = "env.ARGS=--x=1".parse().expect("valid");
        assert_eq!((o.key.as_str(), o.value.as_str()), ("env.ARGS", "--x=1"));
        let o: SetOverride = "image=".parse().expect("empty value is a value");
        assert_eq!(o.value, "");
        assert!(err("image".parse::<SetOverride>()).contains("expected KEY=VALUE"));
        assert!(err("=v".parse::<SetOverride>()).starts_with("invalid key ''"));
        assert!(err("a b=v".parse::<SetOverride>()).starts_with("invalid key 'a b'"));
    }

    #[test]
    fn scenario_is_a_name_or_a_file() {
        assert_eq!(
            "healthy".parse(),
            Ok(ScenarioSpec::Builtin("healthy".into()))
        );
        assert_eq!("x.yaml".parse(), Ok(ScenarioSpec::File("x.yaml".into())));
        assert_eq!("./fleet".parse(), Ok(ScenarioSpec::File("./fleet".into())));
        assert!(
            err("Not A Name".parse::<ScenarioSpec>()).starts_with("invalid scenario 'Not A Name'")
        );
    }

    #[test]
    fn op_ids_cannot_escape_the_journal() {
        assert_eq!(
            parse_op_id("20261126T0549-llama-7f3a"),
            Ok("20261126T0549-llama-7f3a".to_string())
        );
        for bad in ["", "../x", "a/b", ".hidden", "a b"] {
            assert!(
                err(parse_op_id(bad)).starts_with("invalid operation id"),
                "{bad}"
            );
        }
    }

    #[test]
    fn deadlines_are_positive_durations() {
        assert_eq!(parse_deadline("2m"), Ok(Duration::from_secs(120)));
        assert!(err(parse_deadline("0s")).contains("more than zero"));
        assert!(err(parse_deadline("12x")).starts_with("invalid duration '12x'"));
    }

    #[test]
    fn listen_addresses_are_loopback_only() {
        assert_eq!(parse_loopback_addr("127.0.0.1:0").map(|a| a.port()), Ok(0));
        assert!(parse_loopback_addr("[::1]:8080").is_ok());
        assert!(err(parse_loopback_addr("0.0.0.0:6443")).contains("loopback"));
        assert!(
            err(parse_loopback_addr("localhost")).starts_with("invalid listen address 'localhost'")
        );
    }
}
