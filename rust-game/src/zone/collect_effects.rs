//! `CollectEffects`: what the player sees and hears when a piece goes into
//! the hold — an expanding flash at the piece, a floating "+value" label, a
//! short blip (generated in code) — and the magnet's beams to the pieces it
//! is pulling.

use godot::classes::audio_stream_wav::Format;
use godot::classes::{AudioStreamPlayer, AudioStreamWav, INode2D, Node2D, ThemeDb};
use godot::prelude::*;

use crate::theme::palette;

#[derive(Debug, Clone)]
struct Burst {
    position: Vector2,
    colour: Color,
    text: String,
    age: f32,
}

/// Collection feedback. See the module docs.
#[derive(GodotClass)]
#[class(base = Node2D, init)]
pub struct CollectEffects {
    /// Seconds a flash and its label stay.
    #[export(range = (0.1, 5.0, 0.05))]
    #[init(val = 1.1)]
    lifetime: f32,
    /// Radius the flash grows to, px.
    #[export(range = (4.0, 200.0, 1.0))]
    #[init(val = 42.0)]
    flash_radius: f32,
    /// How far the "+value" label rises over its life, px.
    #[export(range = (0.0, 200.0, 1.0))]
    #[init(val = 46.0)]
    label_rise: f32,
    /// Font size of the label.
    #[export(range = (8.0, 64.0, 1.0))]
    #[init(val = 18)]
    label_size: i32,
    /// Pitch of the blip, Hz (rarer pieces sound higher).
    #[export(range = (100.0, 4000.0, 1.0))]
    #[init(val = 660.0)]
    blip_hz: f32,
    /// Length of the blip, s.
    #[export(range = (0.02, 1.0, 0.01))]
    #[init(val = 0.14)]
    blip_seconds: f32,
    /// Colour of the magnet beams.
    #[export]
    #[init(val = Color::from_rgba(0.45, 0.88, 0.95, 0.45))]
    beam_colour: Color,
    #[init(node = "Sound")]
    sound: OnReady<Gd<AudioStreamPlayer>>,
    bursts: Vec<Burst>,
    beams: Vec<Vector2>,
    beam_origin: Vector2,
    played: u64,
    last_blip_frame: Option<u64>,
    base: Base<Node2D>,
}

#[godot_api]
impl INode2D for CollectEffects {
    fn ready(&mut self) {
        let stream = blip(self.blip_hz, self.blip_seconds);
        self.sound.set_stream(&stream);
        self.sound.set_max_polyphony(4);
    }

    fn exit_tree(&mut self) {
        // A playback still running when the node goes away is never released.
        self.sound.stop();
    }

    fn process(&mut self, delta: f64) {
        let lifetime = self.lifetime;
        for burst in &mut self.bursts {
            burst.age += delta as f32;
        }
        self.bursts.retain(|b| b.age < lifetime);
        self.base_mut().queue_redraw();
    }

    fn draw(&mut self) {
        let font = ThemeDb::singleton().get_fallback_font();
        let bursts = self.bursts.clone();
        let beams = self.beams.clone();
        let origin = self.beam_origin;
        let (lifetime, radius, rise, size, beam) = (
            self.lifetime,
            self.flash_radius,
            self.label_rise,
            self.label_size,
            self.beam_colour,
        );
        let mut base = self.base_mut();
        for target in beams {
            base.draw_line_ex(origin, target, beam)
                .width(1.5)
                .antialiased(true)
                .done();
            base.draw_circle(target, 3.0, beam);
        }
        for b in bursts {
            let t = (b.age / lifetime).clamp(0.0, 1.0);
            let fade = 1.0 - t;
            let flash_t = (t * 3.0).min(1.0);
            let ring = Color::from_rgba(b.colour.r, b.colour.g, b.colour.b, (1.0 - flash_t) * 0.9);
            base.draw_arc_ex(
                b.position,
                6.0 + radius * flash_t,
                0.0,
                std::f32::consts::TAU,
                32,
                ring,
            )
            .width(3.0)
            .antialiased(true)
            .done();
            if flash_t < 1.0 {
                let core = Color::from_rgba(1.0, 1.0, 1.0, (1.0 - flash_t) * 0.8);
                base.draw_circle(b.position, 10.0 * (1.0 - flash_t), core);
            }
            if let Some(font) = &font {
                let pos = b.position + Vector2::new(-16.0, -18.0 - rise * t);
                let colour = Color::from_rgba(palette::OK.r, palette::OK.g, palette::OK.b, fade);
                base.draw_string_ex(font, pos, b.text.as_str())
                    .font_size(size)
                    .modulate(colour)
                    .done();
            }
        }
    }
}

#[godot_api]
impl CollectEffects {
    /// Flash, label and blip for a piece worth `value` at `position`.
    #[func]
    pub fn burst(&mut self, position: Vector2, value: i64, colour: Color) {
        self.bursts.push(Burst {
            position,
            colour,
            text: format!("+{value}"),
            age: 0.0,
        });
        // One blip per frame: pieces the magnet lands together sound once
        // (and a playback replaced within its first frame is never released).
        let frame = godot::classes::Engine::singleton().get_process_frames();
        if self.last_blip_frame == Some(frame) {
            return;
        }
        self.last_blip_frame = Some(frame);
        // Rarer (pricier) pieces sound a little higher.
        let pitch = 1.0 + ((value.max(1) as f32).log10() * 0.12).min(0.6);
        self.sound.set_pitch_scale(pitch);
        // Without an audio device (headless tests) a playback is never
        // mixed, so it would never be released: count the blip, skip the mix.
        if godot::classes::AudioServer::singleton().get_driver_name() != "Dummy" {
            self.sound.play();
        }
        self.played += 1;
    }

    /// Flashes alive now.
    #[func]
    pub fn active_bursts(&self) -> i32 {
        self.bursts.len() as i32
    }

    /// Blips played so far.
    #[func]
    pub fn sounds_played(&self) -> i64 {
        self.played as i64
    }

    /// Length in bytes of the generated blip (0 before `ready`).
    #[func]
    pub fn blip_bytes(&self) -> i64 {
        self.sound
            .get_stream()
            .and_then(|s| s.try_cast::<AudioStreamWav>().ok())
            .map_or(0, |w| w.get_data().len() as i64)
    }

    /// Magnet beams currently drawn.
    #[func]
    pub fn beam_count(&self) -> i32 {
        self.beams.len() as i32
    }
}

impl CollectEffects {
    /// Beams from the ship to every piece the magnet is pulling.
    pub fn set_beams(&mut self, origin: Vector2, targets: impl IntoIterator<Item = Vector2>) {
        self.beam_origin = origin;
        self.beams.clear();
        self.beams.extend(targets);
    }
}

/// A short rising blip with a fast decay, 16-bit mono PCM.
fn blip(hz: f32, seconds: f32) -> Gd<AudioStreamWav> {
    const RATE: i32 = 22050;
    let samples = (seconds * RATE as f32) as usize;
    let mut data = PackedByteArray::new();
    let mut phase = 0.0_f32;
    for i in 0..samples {
        let t = i as f32 / samples.max(1) as f32;
        let freq = hz * (1.0 + 0.5 * t);
        phase += freq / RATE as f32 * std::f32::consts::TAU;
        let envelope = (1.0 - t).powi(3) * (t * 60.0).min(1.0);
        let value = (phase.sin() * 0.5 + (phase * 2.0).sin() * 0.15) * envelope;
        let sample = (value * 24000.0) as i16;
        for byte in sample.to_le_bytes() {
            data.push(byte);
        }
    }
    let mut wav = AudioStreamWav::new_gd();
    wav.set_format(Format::FORMAT_16_BITS);
    wav.set_mix_rate(RATE);
    wav.set_stereo(false);
    wav.set_data(&data);
    wav
}
