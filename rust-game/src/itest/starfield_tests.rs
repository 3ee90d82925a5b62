use godot::prelude::*;

use super::{EngineTest, TestContext};
use crate::zone::starfield::Starfield;

pub fn tests() -> Vec<EngineTest> {
    vec![
        EngineTest {
            name: "starfield_generates_its_stars_when_entering_the_tree",
            run: generates_on_ready,
        },
        EngineTest {
            name: "starfield_regenerates_after_a_property_change",
            run: regenerates_on_change,
        },
        EngineTest {
            name: "starfield_loads_from_the_zone_background_scene",
            run: loads_from_scene,
        },
    ]
}

fn generates_on_ready(ctx: &TestContext) {
    let mut field = Starfield::new_alloc();
    field.set("star_count", &120.to_variant());
    assert_eq!(
        field.bind().generated_star_count(),
        0,
        "nothing before ready"
    );
    ctx.root().add_child(&field);
    assert_eq!(field.bind().generated_star_count(), 120);
    field.queue_free();
}

fn regenerates_on_change(ctx: &TestContext) {
    let mut field = Starfield::new_alloc();
    ctx.root().add_child(&field);
    let first = field.bind().star_position(3);
    field.set("seed", &99_i64.to_variant());
    field.bind_mut().regenerate();
    let second = field.bind().star_position(3);
    assert_ne!(first, second, "another seed moves the stars");
    field.set("seed", &7_i64.to_variant());
    field.bind_mut().regenerate();
    assert_eq!(field.bind().star_position(3), first, "same seed, same sky");
    field.queue_free();
}

fn loads_from_scene(ctx: &TestContext) {
    let scene =
        try_load::<PackedScene>("res://scenes/zone/starfield.tscn").expect("starfield.tscn loads");
    let node = scene.instantiate().expect("scene instantiates");
    let mut field = node
        .try_cast::<Starfield>()
        .expect("the scene root is a Starfield");
    ctx.root().add_child(&field);
    assert!(field.bind().generated_star_count() > 0);
    field.queue_free();
}
