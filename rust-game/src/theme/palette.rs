//! The "cold bureaucracy" colours used by nodes that draw in code. Panels,
//! buttons and fonts come from `godot-project/themes/cold_bureaucracy.tres`;
//! these are for `_draw` and for state colours (ok, warning, full).

use godot::prelude::*;

/// Muted neon cyan: text, outlines, the ship.
pub const CYAN: Color = Color::from_rgba(0.45, 0.88, 0.95, 1.0);
/// Dim cyan for secondary text and grid lines.
pub const CYAN_DIM: Color = Color::from_rgba(0.32, 0.6, 0.68, 1.0);
/// Translucent navy of panels.
pub const NAVY: Color = Color::from_rgba(0.04, 0.08, 0.16, 0.86);
/// A rule met, a sale done.
pub const OK: Color = Color::from_rgba(0.45, 0.9, 0.6, 1.0);
/// Hold at 80 %, wall ahead.
pub const WARN: Color = Color::from_rgba(0.95, 0.82, 0.3, 1.0);
/// Hold full, errors.
pub const DANGER: Color = Color::from_rgba(0.95, 0.38, 0.35, 1.0);
/// Greyed-out rows.
pub const MUTED: Color = Color::from_rgba(0.45, 0.5, 0.56, 1.0);

/// Amber of the lobby terminal: text, the player's own avatar.
pub const AMBER: Color = Color::from_rgba(1.0, 0.72, 0.28, 1.0);
/// Dim amber: grid lines, secondary text, other traders.
pub const AMBER_DIM: Color = Color::from_rgba(0.72, 0.5, 0.22, 1.0);

/// A status line: `text` in `colour` (every screen's progress and refusal
/// line goes through here).
pub fn paint(label: &mut Gd<godot::classes::Label>, text: &str, colour: Color) {
    label.set_text(text);
    label.add_theme_color_override("font_color", colour);
}

/// `#rrggbb` from the catalog, or cyan when malformed.
pub fn from_hex(hex: &str) -> Color {
    let digits = hex.trim_start_matches('#');
    if digits.len() != 6 {
        return CYAN;
    }
    let channel = |i: usize| {
        u8::from_str_radix(&digits[i..i + 2], 16)
            .map(|v| f32::from(v) / 255.0)
            .unwrap_or(1.0)
    };
    Color::from_rgba(channel(0), channel(2), channel(4), 1.0)
}

/// `1 234 567` (thin groups keep big credit counts readable in monospace).
pub fn group_digits(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Hold bar state colour: normal, 80 % (warning), full.
pub fn hold_colour(used: i64, capacity: i64) -> Color {
    if capacity > 0 && used >= capacity {
        DANGER
    } else if capacity > 0 && used * 5 >= capacity * 4 {
        WARN
    } else {
        CYAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1 000");
        assert_eq!(group_digits(1234567), "1 234 567");
    }
}
