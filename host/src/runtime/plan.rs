//! The physical plan of a pipeline: operators grouped into stages (chains), and the
//! checks a graph must pass before it runs.
//!
//! Rules: consecutive operators with the same parallelism share a stage (a chain on
//! one thread per subtask), except that an operator with `key_by` always starts a new
//! stage, since its input must cross a key-group exchange.

use std::ops::Range;

use super::pipeline::{OperatorSpec, PipelineError};
use crate::config::Route;
use crate::connector::Sink;

/// Consecutive operators run as one chain per subtask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StagePlan {
    /// Indexes of the stage's operators in the pipeline.
    pub operators: Range<usize>,
    pub parallelism: usize,
    /// Whether the stage begins with a keyed operator (its input is split by key group).
    pub keyed: bool,
}

/// Groups `operators` into stages; see the module docs.
pub(crate) fn plan_stages(operators: &[OperatorSpec]) -> Vec<StagePlan> {
    let mut stages: Vec<StagePlan> = Vec::new();
    for (index, operator) in operators.iter().enumerate() {
        match stages.last_mut() {
            Some(stage)
                if stage.parallelism == operator.parallelism && operator.key_by.is_none() =>
            {
                stage.operators.end = index + 1;
            }
            _ => stages.push(StagePlan {
                operators: index..index + 1,
                parallelism: operator.parallelism,
                keyed: operator.key_by.is_some(),
            }),
        }
    }
    stages
}

/// Every `from` must name an output its operator declares.
pub(crate) fn check_routes(
    operators: &[OperatorSpec],
    sinks: &[(Route, Box<dyn Sink>)],
) -> Result<(), PipelineError> {
    for (route, sink) in sinks {
        if let Route::Named { operator, output } = route {
            let spec = operators.get(*operator).ok_or_else(|| {
                PipelineError::Graph(format!(
                    "sink {} reads operator #{operator}, which does not exist",
                    sink.describe()
                ))
            })?;
            if !spec.outputs.contains(output) {
                return Err(PipelineError::Graph(format!(
                    "sink {} reads output `{output}` of operator `{}`, whose plugin {} declares only {:?}",
                    sink.describe(),
                    spec.name,
                    spec.plugin,
                    spec.outputs
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::key_selector::KeyBy;
    use crate::runtime::operator::OperatorError;

    fn spec(parallelism: usize, key_by: Option<&str>) -> OperatorSpec {
        OperatorSpec {
            name: "op".into(),
            plugin: "native".into(),
            parallelism,
            key_by: key_by.map(|key_by| KeyBy::parse(key_by).expect("valid")),
            outputs: Vec::new(),
            factory: Box::new(|_, _| {
                Err(OperatorError {
                    operator: "op".into(),
                    message: "not built in this test".into(),
                })
            }),
        }
    }

    #[test]
    fn key_by_starts_a_stage_and_chaining_follows_parallelism() {
        let operators = [
            spec(2, None),
            spec(2, None),
            spec(2, Some("user")),
            spec(2, None),
            spec(3, None),
            spec(3, Some("$key")),
        ];
        let stages = plan_stages(&operators);
        let got: Vec<(Range<usize>, usize, bool)> = stages
            .into_iter()
            .map(|stage| (stage.operators, stage.parallelism, stage.keyed))
            .collect();
        assert_eq!(
            got,
            [
                (0..2, 2, false),
                (2..4, 2, true),
                (4..5, 3, false),
                (5..6, 3, true)
            ]
        );
    }
}
