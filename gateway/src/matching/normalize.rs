//! Folding of name text before comparison, so that one person written by two hospitals'
//! systems compares equal: width, kana script, spacing and Latin case are ignored.

use unicode_normalization::UnicodeNormalization;

/// First and last hiragana letter with a katakana twin 0x60 code points above
/// (ぁ U+3041 … ゖ U+3096).
const HIRAGANA_LETTERS: std::ops::RangeInclusive<char> = '\u{3041}'..='\u{3096}';
/// The hiragana iteration marks ゝ ゞ, twins of katakana ヽ ヾ.
const HIRAGANA_ITERATION: std::ops::RangeInclusive<char> = '\u{309D}'..='\u{309E}';
/// Distance from a hiragana to its katakana twin.
const KANA_OFFSET: u32 = 0x60;
/// The katakana middle dot: foreign names in kana use it where Latin text has a space.
const KATAKANA_MIDDLE_DOT: char = '\u{30FB}';

/// The comparison form of a name part: NFKC (full-width Latin and digits to ASCII,
/// half-width katakana to full-width with their voiced marks composed, U+3000 to a space),
/// hiragana to katakana, every space and katakana middle dot removed, Latin lower-cased.
pub fn fold_name(text: &str) -> String {
    text.nfkc()
        .map(hiragana_to_katakana)
        .filter(|c| !c.is_whitespace() && *c != KATAKANA_MIDDLE_DOT)
        .flat_map(char::to_lowercase)
        .collect()
}

/// The katakana twin of a hiragana letter; any other character unchanged.
fn hiragana_to_katakana(c: char) -> char {
    if HIRAGANA_LETTERS.contains(&c) || HIRAGANA_ITERATION.contains(&c) {
        char::from_u32(u32::from(c) + KANA_OFFSET).unwrap_or(c)
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::fold_name;

    #[test]
    fn hiragana_and_katakana_fold_alike() {
        assert_eq!(fold_name("やまだ たろう"), "ヤマダタロウ");
        assert_eq!(fold_name("ヤマダ　タロウ"), "ヤマダタロウ");
        assert_eq!(fold_name("ゔぁ"), "ヴァ");
    }

    #[test]
    fn half_width_katakana_composes_voiced_marks() {
        assert_eq!(fold_name("ﾔﾏﾀﾞ ﾀﾛｳ"), "ヤマダタロウ");
        assert_eq!(fold_name("ﾎﾟﾝ"), "ポン");
        assert_eq!(fold_name("か\u{3099}"), "ガ");
    }

    #[test]
    fn full_width_latin_spaces_and_case_fold() {
        assert_eq!(fold_name("ＹＡＭＡＤＡ　Ｔａｒｏ"), "yamadataro");
        assert_eq!(fold_name(" Yamada  Taro "), "yamadataro");
        assert_eq!(fold_name("ジョン・スミス"), "ジョンスミス");
    }

    #[test]
    fn kanji_is_kept() {
        assert_eq!(fold_name("山田　太郎"), "山田太郎");
        assert_ne!(fold_name("山田"), fold_name("山口"));
    }
}
