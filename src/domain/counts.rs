//! Message counts: unsigned 32-bit in every API of ours, parsed strictly, never wrapped.

use std::fmt;

/// The largest count Asterisk's MWI core can carry: `struct ast_mwi_state` holds `int`s, so a
/// larger u32 would turn negative there. Publishing refuses counts above it.
pub const MAX_PUBLISHABLE_COUNT: u32 = i32::MAX as u32;

/// New, old and urgent message counts of one mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MwiCounts {
    pub new: u32,
    pub old: u32,
    pub urgent: u32,
}

/// Why a text is not a count. The `Display` text is what the admin reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountError {
    Empty,
    Negative,
    NotANumber,
    TooLarge,
}

impl fmt::Display for CountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "is empty"),
            Self::Negative => write!(f, "is negative; counts are 0 or more"),
            Self::NotANumber => write!(f, "is not a whole decimal number"),
            Self::TooLarge => write!(f, "is larger than {}", u32::MAX),
        }
    }
}

impl std::error::Error for CountError {}

/// Parses a decimal count in 0..=4294967295. Only ASCII digits are accepted: no sign, no
/// whitespace, no hex; overflow is an error, never a wrap.
pub fn parse_count(text: &str) -> Result<u32, CountError> {
    if text.is_empty() {
        return Err(CountError::Empty);
    }
    if let Some(rest) = text.strip_prefix('-') {
        if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CountError::Negative);
        }
        return Err(CountError::NotANumber);
    }
    let mut value: u32 = 0;
    for b in text.bytes() {
        if !b.is_ascii_digit() {
            return Err(CountError::NotANumber);
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u32::from(b - b'0')))
            .ok_or(CountError::TooLarge)?;
    }
    Ok(value)
}

/// Which count of [`MwiCounts`] a value belongs to (for error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountKind {
    New,
    Old,
    Urgent,
}

impl fmt::Display for CountKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::New => "new",
            Self::Old => "old",
            Self::Urgent => "urgent",
        })
    }
}

impl MwiCounts {
    /// The first count Asterisk cannot hold (see [`MAX_PUBLISHABLE_COUNT`]), if any.
    pub fn first_unpublishable(&self) -> Option<(CountKind, u32)> {
        [(CountKind::New, self.new), (CountKind::Old, self.old), (CountKind::Urgent, self.urgent)]
            .into_iter()
            .find(|&(_, v)| v > MAX_PUBLISHABLE_COUNT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_whole_u32_range() {
        assert_eq!(parse_count("0"), Ok(0));
        assert_eq!(parse_count("007"), Ok(7));
        assert_eq!(parse_count("4294967295"), Ok(u32::MAX));
    }

    #[test]
    fn refuses_instead_of_wrapping() {
        assert_eq!(parse_count("4294967296"), Err(CountError::TooLarge));
        assert_eq!(parse_count("99999999999999999999999"), Err(CountError::TooLarge));
        assert_eq!(parse_count("-1"), Err(CountError::Negative));
        assert_eq!(parse_count("-0"), Err(CountError::Negative));
        assert_eq!(parse_count(""), Err(CountError::Empty));
        for bad in ["-", "+1", " 1", "1 ", "0x10", "1e3", "abc", "3.0", "١"] {
            assert_eq!(parse_count(bad), Err(CountError::NotANumber), "{bad:?}");
        }
    }

    #[test]
    fn finds_counts_asterisk_cannot_hold() {
        let ok = MwiCounts { new: MAX_PUBLISHABLE_COUNT, old: 0, urgent: 0 };
        assert_eq!(ok.first_unpublishable(), None);
        let too_big = MwiCounts { new: 1, old: MAX_PUBLISHABLE_COUNT + 1, urgent: u32::MAX };
        assert_eq!(too_big.first_unpublishable(), Some((CountKind::Old, MAX_PUBLISHABLE_COUNT + 1)));
    }
}
