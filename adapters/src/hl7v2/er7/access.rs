//! Borrowed views into a parsed message: segment → field → repetition → component →
//! subcomponent. Every accessor past the end gives an empty value instead of panicking, and
//! `text()` unescapes only when the raw text holds an escape character.

use std::borrow::Cow;

use super::escape::unescape_in;
use super::syntax::{Context, COMPONENT, REPETITION, SUBCOMPONENT};
use super::{Location, Message};

/// One segment of a [`Message`].
#[derive(Clone, Copy)]
pub struct Segment<'m> {
    message: &'m Message,
    /// 0-based position.
    position: usize,
}

impl<'m> Segment<'m> {
    pub(crate) fn new(message: &'m Message, position: usize) -> Segment<'m> {
        Segment { message, position }
    }

    /// 1-based position in the message (MSH is 1).
    pub fn index(&self) -> usize {
        self.position + 1
    }

    /// The segment id, e.g. `PID`.
    #[inline]
    pub fn id(&self) -> &'m str {
        self.message.part(self.position, 0)
    }

    /// Field `n` in HL7 numbering. In MSH, field 1 is the field separator itself and field 2
    /// the encoding characters (both returned whole, never split or unescaped). `field(0)` is
    /// the segment id. A field that is not there is empty.
    #[inline]
    pub fn field(&self, n: usize) -> Field<'m> {
        let context = &self.message.context;
        if self.is_msh() {
            match n {
                1 => {
                    let raw = self.message.text.get(3..4).unwrap_or_default();
                    Field::atomic(raw, context)
                }
                2 => Field::atomic(self.message.part(self.position, 1), context),
                0 => Field::atomic(self.id(), context),
                _ => Field::new(self.message.part(self.position, n - 1), context),
            }
        } else if n == 0 {
            Field::atomic(self.id(), context)
        } else {
            Field::new(self.message.part(self.position, n), context)
        }
    }

    /// The highest field number present (trailing empty fields count when their separators
    /// are there).
    pub fn field_count(&self) -> usize {
        let parts = self
            .message
            .segments
            .get(self.position)
            .map_or(0, |s| s.part_count as usize);
        if self.is_msh() {
            parts
        } else {
            parts.saturating_sub(1)
        }
    }

    /// The fields 1..=field_count in order.
    pub fn fields(&self) -> impl Iterator<Item = Field<'m>> + 'm {
        let segment = *self;
        (1..=self.field_count()).map(move |n| segment.field(n))
    }

    /// The raw text of the whole segment (escape sequences in place).
    #[inline]
    pub fn raw(&self) -> &'m str {
        let Some(span) = self.message.segments.get(self.position) else {
            return "";
        };
        self.message
            .text
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }

    /// This segment's location.
    pub fn location(&self) -> Location {
        Location::segment(self.index(), self.id())
    }

    /// The location of field `n` of this segment.
    pub fn field_location(&self, n: usize) -> Location {
        self.location().with_field(n)
    }

    fn is_msh(&self) -> bool {
        // Parsing guarantees MSH is first and only first.
        self.position == 0
    }
}

impl std::fmt::Debug for Segment<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment")
            .field("index", &self.index())
            .field("raw", &self.raw())
            .finish()
    }
}

/// One field of a segment, possibly repeated.
#[derive(Clone, Copy)]
pub struct Field<'m> {
    raw: &'m str,
    context: &'m Context,
    /// MSH-1, MSH-2 and the segment id are not split by delimiters.
    atomic: bool,
}

/// One repetition of a field.
#[derive(Clone, Copy)]
pub struct Repetition<'m> {
    raw: &'m str,
    context: &'m Context,
    atomic: bool,
}

/// One component of a repetition.
#[derive(Clone, Copy)]
pub struct Component<'m> {
    raw: &'m str,
    context: &'m Context,
    atomic: bool,
}

/// The pieces of a raw value split at the bytes of one delimiter class (class 0: the whole
/// value), without allocating. An empty value has no pieces.
#[derive(Clone)]
struct Pieces<'m> {
    rest: Option<&'m str>,
    class: u8,
    context: &'m Context,
}

impl<'m> Pieces<'m> {
    fn new(raw: &'m str, class: u8, context: &'m Context) -> Pieces<'m> {
        Pieces {
            rest: (!raw.is_empty()).then_some(raw),
            class,
            context,
        }
    }
}

impl<'m> Iterator for Pieces<'m> {
    type Item = &'m str;

    #[inline]
    fn next(&mut self) -> Option<&'m str> {
        let rest = self.rest?;
        let classes = &self.context.classes;
        let class = self.class;
        let split = rest
            .as_bytes()
            .iter()
            .position(|&b| classes[usize::from(b)] & class != 0);
        match split {
            // Delimiters are ASCII: `at` and `at + 1` are character boundaries.
            Some(at) => {
                self.rest = rest.get(at + 1..);
                rest.get(..at)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// The `n`th (1-based) piece of `raw` split at `class`, or `""`.
#[inline]
fn nth_piece<'m>(raw: &'m str, class: u8, context: &'m Context, n: usize) -> &'m str {
    match n.checked_sub(1) {
        Some(i) => Pieces::new(raw, class, context).nth(i).unwrap_or_default(),
        None => "",
    }
}

/// Number of pieces; an empty value has none.
fn piece_count(raw: &str, class: u8, context: &Context) -> usize {
    if raw.is_empty() {
        return 0;
    }
    let separators = raw
        .as_bytes()
        .iter()
        .filter(|&&b| context.classes[usize::from(b)] & class != 0)
        .count();
    separators + 1
}

/// `raw` unescaped, or borrowed when `escaped` says it holds no escape character.
#[inline]
fn text_of<'m>(raw: &'m str, escaped: bool, context: &Context) -> Cow<'m, str> {
    if escaped {
        unescape_in(raw, &context.delimiters, context.charset)
    } else {
        Cow::Borrowed(raw)
    }
}

/// `""` is HL7's explicit null ("delete this value"), distinct from empty ("no change").
const NULL: &str = "\"\"";

/// The class to split at, or none for atomic values.
fn split_class(atomic: bool, class: u8) -> u8 {
    if atomic {
        0
    } else {
        class
    }
}

impl<'m> Field<'m> {
    fn new(raw: &'m str, context: &'m Context) -> Field<'m> {
        Field {
            raw,
            context,
            atomic: false,
        }
    }

    fn atomic(raw: &'m str, context: &'m Context) -> Field<'m> {
        Field {
            raw,
            context,
            atomic: true,
        }
    }

    /// The field as written, escape sequences in place.
    #[inline]
    pub fn raw(&self) -> &'m str {
        self.raw
    }

    /// Whether nothing is there.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Whether the field is the explicit null `""`.
    pub fn is_null(&self) -> bool {
        self.raw == NULL
    }

    /// The repetitions in order; an empty field has none.
    pub fn repetitions(&self) -> impl Iterator<Item = Repetition<'m>> + 'm {
        let context = self.context;
        let atomic = self.atomic;
        Pieces::new(self.raw, split_class(atomic, REPETITION), context).map(move |raw| Repetition {
            raw,
            context,
            atomic,
        })
    }

    /// Repetition `i` (1-based); empty when absent.
    #[inline]
    pub fn repetition(&self, i: usize) -> Repetition<'m> {
        Repetition {
            raw: nth_piece(
                self.raw,
                split_class(self.atomic, REPETITION),
                self.context,
                i,
            ),
            context: self.context,
            atomic: self.atomic,
        }
    }

    /// The number of repetitions (0 for an empty field).
    pub fn repetition_count(&self) -> usize {
        piece_count(self.raw, split_class(self.atomic, REPETITION), self.context)
    }

    /// Component `j` (1-based) of the first repetition.
    #[inline]
    pub fn component(&self, j: usize) -> Component<'m> {
        self.first_repetition().component(j)
    }

    /// The number of components of the first repetition (0 when empty).
    pub fn component_count(&self) -> usize {
        self.first_repetition().component_count()
    }

    /// The unescaped text of the first subcomponent of the first component of the first
    /// repetition: `field.repetition(1).component(1).subcomponent_text(1)`.
    #[inline]
    pub fn text(&self) -> Cow<'m, str> {
        if self.atomic {
            return Cow::Borrowed(self.raw);
        }
        let (first, escaped) = self
            .context
            .prefix(self.raw, REPETITION | COMPONENT | SUBCOMPONENT);
        text_of(first, escaped, self.context)
    }

    #[inline]
    fn first_repetition(&self) -> Repetition<'m> {
        let raw = if self.atomic {
            self.raw
        } else {
            self.context.prefix(self.raw, REPETITION).0
        };
        Repetition {
            raw,
            context: self.context,
            atomic: self.atomic,
        }
    }
}

impl<'m> Repetition<'m> {
    /// The repetition as written.
    #[inline]
    pub fn raw(&self) -> &'m str {
        self.raw
    }

    /// Whether nothing is there.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Whether the repetition is the explicit null `""`.
    pub fn is_null(&self) -> bool {
        self.raw == NULL
    }

    /// Component `j` (1-based); empty when absent.
    #[inline]
    pub fn component(&self, j: usize) -> Component<'m> {
        Component {
            raw: nth_piece(
                self.raw,
                split_class(self.atomic, COMPONENT),
                self.context,
                j,
            ),
            context: self.context,
            atomic: self.atomic,
        }
    }

    /// The components in order; an empty repetition has none.
    pub fn components(&self) -> impl Iterator<Item = Component<'m>> + 'm {
        let context = self.context;
        let atomic = self.atomic;
        Pieces::new(self.raw, split_class(atomic, COMPONENT), context).map(move |raw| Component {
            raw,
            context,
            atomic,
        })
    }

    /// The number of components (0 when empty).
    pub fn component_count(&self) -> usize {
        piece_count(self.raw, split_class(self.atomic, COMPONENT), self.context)
    }

    /// The unescaped text of the first subcomponent of the first component.
    #[inline]
    pub fn text(&self) -> Cow<'m, str> {
        if self.atomic {
            return Cow::Borrowed(self.raw);
        }
        let (first, escaped) = self.context.prefix(self.raw, COMPONENT | SUBCOMPONENT);
        text_of(first, escaped, self.context)
    }
}

impl<'m> Component<'m> {
    /// The component as written.
    #[inline]
    pub fn raw(&self) -> &'m str {
        self.raw
    }

    /// Whether nothing is there.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Whether the component is the explicit null `""`.
    pub fn is_null(&self) -> bool {
        self.raw == NULL
    }

    /// Subcomponent `k` (1-based) as written; `""` when absent.
    pub fn subcomponent(&self, k: usize) -> &'m str {
        nth_piece(
            self.raw,
            split_class(self.atomic, SUBCOMPONENT),
            self.context,
            k,
        )
    }

    /// Subcomponent `k` (1-based), unescaped.
    pub fn subcomponent_text(&self, k: usize) -> Cow<'m, str> {
        let raw = self.subcomponent(k);
        if self.atomic {
            return Cow::Borrowed(raw);
        }
        let escaped = self.context.prefix(raw, 0).1;
        text_of(raw, escaped, self.context)
    }

    /// The number of subcomponents (0 when empty).
    pub fn subcomponent_count(&self) -> usize {
        piece_count(
            self.raw,
            split_class(self.atomic, SUBCOMPONENT),
            self.context,
        )
    }

    /// The subcomponents in order, as written; an empty component has none.
    pub fn subcomponents(&self) -> impl Iterator<Item = &'m str> + 'm {
        Pieces::new(
            self.raw,
            split_class(self.atomic, SUBCOMPONENT),
            self.context,
        )
    }

    /// The unescaped text of the first subcomponent.
    #[inline]
    pub fn text(&self) -> Cow<'m, str> {
        if self.atomic {
            return Cow::Borrowed(self.raw);
        }
        let (first, escaped) = self.context.prefix(self.raw, SUBCOMPONENT);
        text_of(first, escaped, self.context)
    }
}

macro_rules! debug_raw {
    ($($t:ident),*) => {$(
        impl std::fmt::Debug for $t<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($t)).field(&self.raw).finish()
            }
        }
    )*};
}
debug_raw!(Field, Repetition, Component);
