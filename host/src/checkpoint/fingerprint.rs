//! [`Fingerprint`]: the shape of a pipeline that its checkpointed state depends on,
//! kept part by part so that a mismatch can say what differs.
//!
//! Incompatible (a restore is refused): the set of operators and their kinds (the
//! plugin's name, or built-in), `key_by`, parallelism (no rescaling yet),
//! `max_key_groups` and window specifications. Compatible (a restore goes on): batch
//! size, channel capacity, sink paths, a plugin's new version or file, settings.

use serde::{Deserialize, Serialize};

use crate::config::{OperatorFunction, PipelineConfig};

/// The shape of one operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorShape {
    pub name: String,
    /// `plugin <name>` or `builtin`.
    pub kind: String,
    pub key_by: Option<String>,
    pub parallelism: usize,
    /// The window specification, if any, as text.
    pub window: Option<String>,
}

/// The shape of a pipeline (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub max_key_groups: u16,
    pub operators: Vec<OperatorShape>,
}

impl Fingerprint {
    /// The shape of `config`, whose operators run the plugins named `plugin_names`
    /// (`None` for built-in aggregates), in order.
    pub fn of(config: &PipelineConfig, plugin_names: &[Option<String>]) -> Self {
        let operators = config
            .operators
            .iter()
            .zip(plugin_names.iter().chain(std::iter::repeat(&None)))
            .map(|(operator, plugin)| OperatorShape {
                name: operator.name.clone(),
                kind: match (&operator.function, plugin) {
                    (OperatorFunction::Plugin(_), Some(name)) => format!("plugin `{name}`"),
                    (OperatorFunction::Plugin(path), None) => {
                        format!("plugin `{}`", path.display())
                    }
                    (OperatorFunction::Builtins(list), _) => {
                        format!("built-in aggregates {list:?}")
                    }
                },
                key_by: operator.key_by.as_ref().map(ToString::to_string),
                parallelism: operator.parallelism,
                window: operator.window.map(|window| format!("{window:?}")),
            })
            .collect();
        Fingerprint {
            max_key_groups: config.runtime.max_key_groups,
            operators,
        }
    }

    /// What differs from `checkpointed` (the shape a checkpoint was taken with) in a
    /// way its state cannot follow; empty when compatible.
    pub fn incompatibilities(&self, checkpointed: &Fingerprint) -> Vec<String> {
        let mut differences = Vec::new();
        if self.max_key_groups != checkpointed.max_key_groups {
            differences.push(format!(
                "`max_key_groups` was {}, is now {}",
                checkpointed.max_key_groups, self.max_key_groups
            ));
        }
        let names = |shape: &Fingerprint| -> Vec<String> {
            shape.operators.iter().map(|op| op.name.clone()).collect()
        };
        if names(self) != names(checkpointed) {
            differences.push(format!(
                "the operators were {:?}, are now {:?}",
                names(checkpointed),
                names(self)
            ));
            return differences;
        }
        for (now, then) in self.operators.iter().zip(&checkpointed.operators) {
            let name = &now.name;
            let mut check = |what: &str, then: String, now: String| {
                if then != now {
                    differences.push(format!(
                        "operator `{name}`: {what} was {then}, is now {now}"
                    ));
                }
            };
            check("its kind", then.kind.clone(), now.kind.clone());
            check("`key_by`", show(&then.key_by), show(&now.key_by));
            check(
                "`parallelism`",
                then.parallelism.to_string(),
                now.parallelism.to_string(),
            );
            check("its window", show(&then.window), show(&now.window));
        }
        differences
    }
}

fn show(value: &Option<String>) -> String {
    value
        .as_ref()
        .map_or_else(|| "none".to_owned(), |value| format!("`{value}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(parallelism: usize, key_by: &str) -> Fingerprint {
        Fingerprint {
            max_key_groups: 128,
            operators: vec![OperatorShape {
                name: "count".into(),
                kind: "plugin `rolling-stats`".into(),
                key_by: Some(key_by.into()),
                parallelism,
                window: None,
            }],
        }
    }

    #[test]
    fn differences_name_the_operator_and_the_setting() {
        assert!(
            shape(1, "user")
                .incompatibilities(&shape(1, "user"))
                .is_empty()
        );
        assert_eq!(
            shape(2, "card").incompatibilities(&shape(1, "user")),
            [
                "operator `count`: `key_by` was `user`, is now `card`",
                "operator `count`: `parallelism` was 1, is now 2"
            ]
        );
        let mut more = shape(1, "user");
        more.max_key_groups = 64;
        more.operators[0].name = "sum".into();
        assert_eq!(
            more.incompatibilities(&shape(1, "user")),
            [
                "`max_key_groups` was 128, is now 64",
                "the operators were [\"count\"], are now [\"sum\"]"
            ]
        );
    }
}
