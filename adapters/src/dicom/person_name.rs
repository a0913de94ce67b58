//! DICOM Person Name (PN) values (PS3.5 §6.2.1): up to three component groups (alphabetic,
//! ideographic, phonetic) separated by `=`, each of up to five components separated by `^`.
//! Works on text already decoded by [`super::charset`], where every delimiter is real.

/// One component group of a person name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameGroup {
    /// Family name complex.
    pub family: String,
    /// Given name complex.
    pub given: String,
    /// Middle name.
    pub middle: String,
    /// Name prefix.
    pub prefix: String,
    /// Name suffix.
    pub suffix: String,
}

/// A decoded PN value: up to three component groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonName {
    /// The alphabetic (single-byte) group.
    pub alphabetic: Option<NameGroup>,
    /// The ideographic group (kanji).
    pub ideographic: Option<NameGroup>,
    /// The phonetic group (hiragana/katakana).
    pub phonetic: Option<NameGroup>,
}

impl PersonName {
    /// Parses decoded PN text (the first value when several are present). Trailing spaces and
    /// NULs of groups and components are dropped, everything else is kept verbatim; a group
    /// with no non-empty component is `None`, and groups or components past the third or
    /// fifth are ignored, as pydicom ignores them.
    pub fn parse(decoded: &str) -> PersonName {
        let first_value = decoded.split('\\').next().unwrap_or_default();
        let mut groups = first_value.split('=').map(NameGroup::parse);
        let mut next = || groups.next().flatten();
        PersonName {
            alphabetic: next(),
            ideographic: next(),
            phonetic: next(),
        }
    }

    /// True when no group has a name in it.
    pub fn is_empty(&self) -> bool {
        self.alphabetic.is_none() && self.ideographic.is_none() && self.phonetic.is_none()
    }

    /// One readable name for display: the ideographic group when present (what Japanese staff
    /// read), else the alphabetic, else the phonetic.
    pub fn display(&self) -> Option<String> {
        [&self.ideographic, &self.alphabetic, &self.phonetic]
            .into_iter()
            .flatten()
            .map(NameGroup::readable)
            .find(|text| !text.is_empty())
    }
}

impl NameGroup {
    /// Parses one component group; `None` when all its components are empty.
    fn parse(group: &str) -> Option<NameGroup> {
        let mut components = trim_padding(group)
            .split('^')
            .map(|c| trim_padding(c).to_owned());
        let mut next = || components.next().unwrap_or_default();
        let group = NameGroup {
            family: next(),
            given: next(),
            middle: next(),
            prefix: next(),
            suffix: next(),
        };
        (!group.components().iter().all(|c| c.is_empty())).then_some(group)
    }

    /// The given name then the middle name, leaving out empty ones: FHIR `HumanName.given`.
    pub fn given_names(&self) -> Vec<&str> {
        [self.given.as_str(), self.middle.as_str()]
            .into_iter()
            .filter(|name| !name.is_empty())
            .collect()
    }

    /// The group written as DICOM writes it, `family^given^middle^prefix^suffix` without
    /// trailing empty components (`Yamada^Tarou`): FHIR `HumanName.text`.
    pub fn text(&self) -> String {
        let components = self.components();
        let used = components
            .iter()
            .rposition(|c| !c.is_empty())
            .map_or(0, |last| last + 1);
        components.get(..used).unwrap_or_default().join("^")
    }

    /// The group as people write it: family name first, parts separated by spaces
    /// (`川瀬 花子`, `Kawase Hanako`): FHIR `HumanName.text` and display strings.
    pub fn readable(&self) -> String {
        [
            self.prefix.as_str(),
            self.family.as_str(),
            self.given.as_str(),
            self.middle.as_str(),
            self.suffix.as_str(),
        ]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
    }

    /// The five components in DICOM order.
    fn components(&self) -> [&str; 5] {
        [
            &self.family,
            &self.given,
            &self.middle,
            &self.prefix,
            &self.suffix,
        ]
    }
}

/// `text` without trailing spaces and NULs (PN padding).
fn trim_padding(text: &str) -> &str {
    text.trim_end_matches([' ', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(components: [&str; 5]) -> NameGroup {
        let [family, given, middle, prefix, suffix] = components.map(str::to_owned);
        NameGroup {
            family,
            given,
            middle,
            prefix,
            suffix,
        }
    }

    #[test]
    fn annex_h_three_groups() {
        let name = PersonName::parse("Yamada^Tarou=山田^太郎=やまだ^たろう");
        assert_eq!(
            name.alphabetic,
            Some(group(["Yamada", "Tarou", "", "", ""]))
        );
        assert_eq!(name.ideographic, Some(group(["山田", "太郎", "", "", ""])));
        assert_eq!(name.phonetic, Some(group(["やまだ", "たろう", "", "", ""])));
        assert!(!name.is_empty());
        let half_width = PersonName::parse("ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう");
        assert_eq!(
            half_width.alphabetic.map(|g| g.text()).as_deref(),
            Some("ﾔﾏﾀﾞ^ﾀﾛｳ")
        );
    }

    #[test]
    fn only_ideographic() {
        let name = PersonName::parse("=山田^太郎");
        assert_eq!(name.alphabetic, None);
        assert_eq!(name.ideographic, Some(group(["山田", "太郎", "", "", ""])));
        assert_eq!(name.phonetic, None);
    }

    #[test]
    fn trailing_carets_spaces_and_nuls() {
        let name = PersonName::parse("Doe^John^^^ \0");
        let alphabetic = name.alphabetic.unwrap();
        assert_eq!(alphabetic, group(["Doe", "John", "", "", ""]));
        assert_eq!(alphabetic.text(), "Doe^John");
        let padded = PersonName::parse("Doe  ^John ^^Dr\0=");
        assert_eq!(
            padded.alphabetic,
            Some(group(["Doe", "John", "", "Dr", ""]))
        );
        assert_eq!(padded.ideographic, None);
        // Leading spaces are content, not padding.
        assert_eq!(
            PersonName::parse(" Doe").alphabetic.map(|g| g.family),
            Some(" Doe".to_owned())
        );
    }

    #[test]
    fn empty_groups_are_none() {
        for text in ["", "^^^^", "==", " ", "^ ^=^", "\\Doe^John"] {
            assert!(PersonName::parse(text).is_empty(), "{text:?}");
        }
    }

    #[test]
    fn first_value_of_several() {
        let name = PersonName::parse("Doe^John\\Roe^Jane");
        assert_eq!(name.alphabetic, Some(group(["Doe", "John", "", "", ""])));
        assert_eq!(name.ideographic, None);
    }

    #[test]
    fn extra_groups_and_components_are_ignored() {
        let name = PersonName::parse("a^b^c^d^e^f=g=h=i");
        assert_eq!(name.alphabetic, Some(group(["a", "b", "c", "d", "e"])));
        assert_eq!(name.phonetic, Some(group(["h", "", "", "", ""])));
    }

    #[test]
    fn given_names_and_text() {
        let full = group(["Doe", "John", "Quincy", "Dr", "Jr"]);
        assert_eq!(full.given_names(), ["John", "Quincy"]);
        assert_eq!(full.text(), "Doe^John^Quincy^Dr^Jr");
        let middle_only = group(["Doe", "", "Q", "", ""]);
        assert_eq!(middle_only.given_names(), ["Q"]);
        assert_eq!(middle_only.text(), "Doe^^Q");
        let given_only = group(["", "Tarou", "", "", ""]);
        assert_eq!(given_only.text(), "^Tarou");
        assert!(group(["Doe", "", "", "", ""]).given_names().is_empty());
        assert_eq!(NameGroup::default().text(), "");
    }
}
