//! `LobbyAvatar` (`scenes/lobby/lobby_avatar.tscn`): one trader on the trading
//! floor, drawn in code, with a name tag. The player's own avatar is moved
//! by [`crate::lobby::trading_floor::TradingFloor`]; another trader's avatar glides
//! towards the last position the server reported (exponential smoothing, so
//! positions arriving 10-20 times a second look continuous).

use godot::classes::{Engine, INode2D, Label, Node2D};
use godot::prelude::*;

use crate::theme::palette;

/// A trader's avatar. See the module docs.
#[derive(GodotClass)]
#[class(base = Node2D, init, tool)]
pub struct LobbyAvatar {
    /// Body radius, px.
    #[export(range = (4.0, 64.0, 1.0))]
    #[init(val = 15.0)]
    radius: f32,
    /// How fast another trader's avatar closes the gap to its reported
    /// position, per second (higher = snappier, lower = smoother).
    #[export(range = (1.0, 60.0, 0.5))]
    #[init(val = 12.0)]
    follow_rate: f32,
    /// Body colour of the player's own avatar.
    #[export]
    #[init(val = palette::AMBER)]
    own_colour: Color,
    /// Body colour of the other traders.
    #[export]
    #[init(val = palette::CYAN)]
    other_colour: Color,
    /// Drawn with a ring (the trade target in reach).
    #[export]
    highlighted: bool,
    /// Opacity while the trader's link is down (reconnecting).
    #[export(range = (0.05, 1.0, 0.05))]
    #[init(val = 0.35)]
    reconnecting_alpha: f32,
    #[init(node = "NameTag")]
    name_tag: OnReady<Gd<Label>>,
    username: String,
    is_own: bool,
    /// The trader's link is down (the server's grace period runs).
    reconnecting: bool,
    target: Vector2,
    /// `ready` ran (the name tag exists).
    entered: bool,
    base: Base<Node2D>,
}

#[godot_api]
impl INode2D for LobbyAvatar {
    fn ready(&mut self) {
        self.target = self.base().get_position();
        self.entered = true;
        self.refresh_tag();
    }

    fn process(&mut self, delta: f64) {
        // In the editor (tool class) the designer places the avatar.
        if self.is_own || Engine::singleton().is_editor_hint() {
            return;
        }
        let position = self.base().get_position();
        let (x, y) = client::room::follow_step(
            (position.x, position.y),
            (self.target.x, self.target.y),
            self.follow_rate,
            delta,
        );
        let next = Vector2::new(x, y);
        if next != position {
            self.base_mut().set_position(next);
        }
    }

    fn draw(&mut self) {
        let r = self.radius;
        let colour = if self.is_own {
            self.own_colour
        } else {
            self.other_colour
        };
        let highlighted = self.highlighted;
        let mut base = self.base_mut();
        let fill = Color::from_rgba(colour.r * 0.25, colour.g * 0.25, colour.b * 0.25, 0.95);
        // A suit seen from above: round body, a visor towards the top.
        base.draw_circle(Vector2::ZERO, r, fill);
        base.draw_arc_ex(Vector2::ZERO, r, 0.0, std::f32::consts::TAU, 32, colour)
            .width(2.0)
            .antialiased(true)
            .done();
        let visor = PackedVector2Array::from(
            [
                Vector2::new(-r * 0.55, -r * 0.2),
                Vector2::new(r * 0.55, -r * 0.2),
                Vector2::new(r * 0.35, -r * 0.6),
                Vector2::new(-r * 0.35, -r * 0.6),
            ]
            .as_slice(),
        );
        base.draw_colored_polygon(&visor, colour);
        if highlighted {
            let ring = Color::from_rgba(colour.r, colour.g, colour.b, 0.6);
            for i in 0..16 {
                let a0 = i as f32 / 16.0 * std::f32::consts::TAU;
                base.draw_arc_ex(Vector2::ZERO, r * 1.9, a0, a0 + 0.25, 4, ring)
                    .width(1.5)
                    .done();
            }
        }
    }
}

#[godot_api]
impl LobbyAvatar {
    /// Username shown on the tag.
    #[func]
    pub fn username(&self) -> GString {
        GString::from(self.username.as_str())
    }

    /// The tag's text as shown.
    #[func]
    pub fn name_tag_text(&self) -> GString {
        self.name_tag.get_text()
    }

    /// Where the server last said this trader stands.
    #[func]
    pub fn target(&self) -> Vector2 {
        self.target
    }

    /// Whether the avatar shows its trader as reconnecting (dimmed, tagged).
    #[func]
    pub fn is_reconnecting(&self) -> bool {
        self.reconnecting
    }

    /// Dims the avatar and tags it while its trader's link is down.
    #[func]
    pub fn set_reconnecting(&mut self, on: bool) {
        if self.reconnecting == on {
            return;
        }
        self.reconnecting = on;
        let alpha = if on { self.reconnecting_alpha } else { 1.0 };
        self.base_mut()
            .set_modulate(Color::from_rgba(1.0, 1.0, 1.0, alpha));
        self.refresh_tag();
    }

    /// Marks the avatar as the trade target in reach.
    #[func]
    pub fn mark_in_reach(&mut self, on: bool) {
        if self.highlighted != on {
            self.highlighted = on;
            self.base_mut().queue_redraw();
        }
    }
}

impl LobbyAvatar {
    /// Names the avatar; `is_own` = the player's own (moved locally).
    pub fn setup(&mut self, username: &str, is_own: bool) {
        self.username = username.to_owned();
        self.is_own = is_own;
        self.refresh_tag();
        self.base_mut().queue_redraw();
    }

    /// A reported position: another trader's avatar glides there.
    pub fn move_towards(&mut self, position: Vector2) {
        self.target = position;
    }

    /// Puts the avatar at `position` at once.
    pub fn place(&mut self, position: Vector2) {
        self.target = position;
        self.base_mut().set_position(position);
    }

    fn refresh_tag(&mut self) {
        if !self.entered {
            return;
        }
        let text = if self.is_own {
            format!("{} (YOU)", self.username)
        } else if self.reconnecting {
            format!("{} · RECONNECTING", self.username)
        } else {
            self.username.clone()
        };
        let colour = if self.is_own {
            palette::AMBER
        } else {
            self.other_colour
        };
        let mut tag = self.name_tag.clone();
        tag.set_text(text.as_str());
        tag.add_theme_color_override("font_color", colour);
    }
}
