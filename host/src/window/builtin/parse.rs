//! Parsing the built-in aggregate list of a pipeline file:
//! `[count, sum(amount), max(payment.amount) as biggest]`.

/// What a built-in aggregate computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinKind {
    /// Events in the window.
    Count,
    /// Sum of the field.
    Sum,
    /// Smallest value of the field.
    Min,
    /// Largest value of the field.
    Max,
    /// Arithmetic mean of the field.
    Mean,
}

impl BuiltinKind {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "count" => BuiltinKind::Count,
            "sum" => BuiltinKind::Sum,
            "min" => BuiltinKind::Min,
            "max" => BuiltinKind::Max,
            "mean" | "avg" => BuiltinKind::Mean,
            _ => return None,
        })
    }

    /// The function's name in the pipeline file.
    pub fn as_str(self) -> &'static str {
        match self {
            BuiltinKind::Count => "count",
            BuiltinKind::Sum => "sum",
            BuiltinKind::Min => "min",
            BuiltinKind::Max => "max",
            BuiltinKind::Mean => "mean",
        }
    }
}

/// One aggregate of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinAggregate {
    pub kind: BuiltinKind,
    /// The dotted path of the JSON field, split (`payment.amount` → `[payment, amount]`);
    /// empty for `count`.
    pub path: Vec<String>,
    /// The name of the result in the output object.
    pub name: String,
}

/// Names the result object already uses.
const RESERVED: [&str; 5] = [
    "key",
    "window_start",
    "window_end",
    "firing",
    "firing_index",
];

impl BuiltinAggregate {
    /// Parses one item: `count`, `sum(amount)`, `mean(a.b) as avg_b`.
    ///
    /// # Errors
    /// What is wrong with the item, in words.
    pub fn parse(item: &str) -> Result<Self, String> {
        let item = item.trim();
        let (call, name) = match item.split_once(" as ") {
            Some((call, name)) => (call.trim(), Some(name.trim())),
            None => (item, None),
        };
        let (function, field) = match call.split_once('(') {
            Some((function, rest)) => {
                let field = rest
                    .strip_suffix(')')
                    .ok_or_else(|| format!("aggregate `{item}`: missing `)` after the field"))?;
                (function.trim(), Some(field.trim()))
            }
            None => (call, None),
        };
        let kind = BuiltinKind::parse(function).ok_or_else(|| {
            format!(
                "aggregate `{item}`: unknown function `{function}` \
                 (expected count, sum, min, max or mean)"
            )
        })?;
        let field = field.filter(|field| !field.is_empty());
        let path: Vec<String> = match (kind, field) {
            (BuiltinKind::Count, None) => Vec::new(),
            (BuiltinKind::Count, Some(_)) => {
                return Err(format!("aggregate `{item}`: count takes no field"));
            }
            (_, None) => {
                return Err(format!(
                    "aggregate `{item}`: {} needs a field, e.g. `{}(amount)`",
                    kind.as_str(),
                    kind.as_str()
                ));
            }
            (_, Some(field)) => field.split('.').map(str::to_owned).collect(),
        };
        if path.iter().any(|segment| segment.is_empty()) {
            return Err(format!("aggregate `{item}`: empty segment in field path"));
        }
        let name = match name {
            Some("") => return Err(format!("aggregate `{item}`: empty name after `as`")),
            Some(name) => name.to_owned(),
            None if path.is_empty() => kind.as_str().to_owned(),
            None => format!("{}_{}", kind.as_str(), path.join("_")),
        };
        if RESERVED.contains(&name.as_str()) {
            return Err(format!(
                "aggregate `{item}`: `{name}` is a name the result already uses; \
                 choose another with `as`"
            ));
        }
        Ok(BuiltinAggregate { kind, path, name })
    }
}

/// Parses a list: items separated by commas, optionally within `[ ]`.
///
/// # Errors
/// The first item that is wrong, or duplicate names.
pub fn parse_list(text: &str) -> Result<Vec<BuiltinAggregate>, String> {
    let text = text.trim();
    let inner = match (text.strip_prefix('['), text.ends_with(']')) {
        (Some(rest), true) => &rest[..rest.len() - 1],
        (None, false) => text,
        _ => return Err(format!("aggregates `{text}`: unbalanced `[ ]`")),
    };
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut from = 0;
    for (at, c) in inner.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(&inner[from..at]);
                from = at + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[from..]);
    parse_items(&items)
}

/// Parses a list given item by item (as a TOML array of strings gives it).
///
/// # Errors
/// The first item that is wrong, an empty list, or duplicate names.
pub fn parse_items<S: AsRef<str>>(items: &[S]) -> Result<Vec<BuiltinAggregate>, String> {
    let aggregates = items
        .iter()
        .map(|item| BuiltinAggregate::parse(item.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    if aggregates.is_empty() {
        return Err("the aggregate list is empty".into());
    }
    for (at, aggregate) in aggregates.iter().enumerate() {
        if aggregates[..at]
            .iter()
            .any(|other| other.name == aggregate.name)
        {
            return Err(format!(
                "two aggregates are named `{}`; rename one with `as`",
                aggregate.name
            ));
        }
    }
    Ok(aggregates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_and_names() -> Result<(), String> {
        let list = parse_list("[count, sum(amount), max(payment.amount) as biggest, avg(x)]")?;
        let got: Vec<_> = list
            .iter()
            .map(|a| (a.kind, a.path.join("."), a.name.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (BuiltinKind::Count, String::new(), "count"),
                (BuiltinKind::Sum, "amount".into(), "sum_amount"),
                (BuiltinKind::Max, "payment.amount".into(), "biggest"),
                (BuiltinKind::Mean, "x".into(), "mean_x"),
            ]
        );
        assert_eq!(parse_items(&["min(a.b)"])?[0].name, "min_a_b");
        Ok(())
    }

    #[test]
    fn readable_errors() {
        let cases = [
            ("[median(x)]", "unknown function `median`"),
            ("[sum]", "sum needs a field"),
            ("[count(x)]", "count takes no field"),
            ("[sum(a..b)]", "empty segment"),
            ("[sum(a]", "missing `)`"),
            ("[count, count]", "two aggregates are named `count`"),
            ("[sum(x) as key]", "`key` is a name the result already uses"),
            ("[count", "unbalanced"),
        ];
        for (text, expected) in cases {
            match parse_list(text) {
                Err(error) => assert!(error.contains(expected), "{text}: {error}"),
                Ok(list) => panic!("{text} parsed: {list:?}"),
            }
        }
        assert!(parse_items::<&str>(&[]).is_err());
    }
}
