//! The look shared by every feature: colours (`palette`). Fonts and boxes
//! live in `godot-project/themes/*.tres`.

pub mod palette;
