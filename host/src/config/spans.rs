//! Where things are in a pipeline file: the parsed TOML document with the byte spans
//! of its values, so that checks made after deserialisation still point at a line.

use toml::de::{DeTable, DeValue};

/// One step of a path into the document: a key of a table, or an index of an array.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step<'a> {
    Key(&'a str),
    At(usize),
}

/// The parsed document, for looking up spans.
pub(super) struct Document<'i> {
    root: DeValue<'i>,
}

impl<'i> Document<'i> {
    pub(super) fn new(root: &DeTable<'i>) -> Self {
        Document {
            root: DeValue::Table(root.clone()),
        }
    }

    /// The value at `path`, with its span.
    pub(super) fn get(&self, path: &[Step<'_>]) -> Option<&toml::Spanned<DeValue<'i>>> {
        let (first, rest) = path.split_first()?;
        let mut at = step(&self.root, *first)?;
        for next in rest {
            at = step(at.get_ref(), *next)?;
        }
        Some(at)
    }

    /// The byte offset where the value at `path` starts (for a table written as
    /// `[a.b]`, its header).
    pub(super) fn offset(&self, path: &[Step<'_>]) -> Option<usize> {
        self.get(path).map(|value| value.span().start)
    }
}

fn step<'v, 'i>(value: &'v DeValue<'i>, step: Step<'_>) -> Option<&'v toml::Spanned<DeValue<'i>>> {
    match step {
        Step::Key(key) => value.get(key),
        Step::At(index) => value.get(index),
    }
}
