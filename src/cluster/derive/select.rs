//! Label matching for grouping: Deployment selectors (matchLabels and matchExpressions, as the
//! apiserver evaluates them), Service selectors, and the configured raw-endpoint selector.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

pub type Labels = BTreeMap<String, String>;

/// Whether `labels` match a LabelSelector. An empty selector matches nothing here: a
/// Deployment always has one, and "everything in the namespace" is never what grouping means.
pub fn selector_matches(sel: &LabelSelector, labels: &Labels) -> bool {
    let ml = sel.match_labels.as_ref();
    let me = sel.match_expressions.as_ref();
    if ml.is_none_or(BTreeMap::is_empty) && me.is_none_or(Vec::is_empty) {
        return false;
    }
    let labels_ok = ml.is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)));
    let exprs_ok = me.is_none_or(|es| {
        es.iter().all(|e| {
            let values = e.values.as_deref().unwrap_or_default();
            let have = labels.get(&e.key);
            match e.operator.as_str() {
                "In" => have.is_some_and(|v| values.contains(v)),
                "NotIn" => have.is_none_or(|v| !values.contains(v)),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                // An operator the apiserver would have refused: match nothing rather than guess.
                _ => false,
            }
        })
    });
    labels_ok && exprs_ok
}

/// The raw-endpoint selector of `config.toml`: `key` (has the label) or `key=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSelector {
    pub key: String,
    pub value: Option<String>,
}

impl RawSelector {
    pub fn parse(s: &str) -> RawSelector {
        match s.split_once('=') {
            Some((k, v)) => RawSelector {
                key: k.trim().to_string(),
                value: Some(v.trim().to_string()),
            },
            None => RawSelector {
                key: s.trim().to_string(),
                value: None,
            },
        }
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        match (labels.get(&self.key), &self.value) {
            (Some(_), None) => !self.key.is_empty(),
            (Some(have), Some(want)) => have == want,
            (None, _) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn match_labels_and_expressions() {
        let sel = LabelSelector {
            match_labels: Some(labels(&[("app", "x")])),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: Some(vec!["a".into(), "b".into()]),
                },
                LabelSelectorRequirement {
                    key: "canary".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
            ]),
        };
        assert!(selector_matches(
            &sel,
            &labels(&[("app", "x"), ("tier", "b")])
        ));
        assert!(!selector_matches(
            &sel,
            &labels(&[("app", "x"), ("tier", "c")])
        ));
        assert!(!selector_matches(
            &sel,
            &labels(&[("app", "x"), ("tier", "a"), ("canary", "1")])
        ));
        assert!(!selector_matches(
            &LabelSelector::default(),
            &labels(&[("app", "x")])
        ));
    }

    #[test]
    fn raw_selector_forms() {
        let has = RawSelector::parse("llm-ops.io/endpoint");
        assert!(has.matches(&labels(&[("llm-ops.io/endpoint", "whatever")])));
        assert!(!has.matches(&labels(&[("app", "x")])));
        let eq = RawSelector::parse("tier = llm");
        assert!(eq.matches(&labels(&[("tier", "llm")])));
        assert!(!eq.matches(&labels(&[("tier", "web")])));
        assert!(!RawSelector::parse("").matches(&labels(&[("", "")])));
    }
}
