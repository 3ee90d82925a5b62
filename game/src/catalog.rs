//! The catalog: debris kinds, zones, upgrades, ship tuning, lobby limits and
//! station AI messages, read from `game/data/catalog.toml`.
//!
//! The file is embedded at compile time and validated when it is first read,
//! so a designer's typo (an unknown id, a cost that goes down, weights that
//! sum to zero, a hub outside its zone) is a [`CatalogError`] naming the
//! entry, never a silent wrong number. [`Catalog::shipped`] parses it once and
//! hands out a `&'static` reference, so it is cheap to call every frame.
//!
//! This module only describes the world; it must not hold player state, do
//! I/O (the text is embedded, tests pass their own strings) or know Godot.
//!
//! Number types used across the crate: [`Credits`] is `u64` (a balance can
//! never be negative, so the type says so; the backend converts to `i64` at
//! the database boundary with `i64::try_from`), item counts are
//! [`ItemCount`] = `u32`, upgrade levels [`Level`] = `u32`, zones
//! [`ZoneId`] = `u8` (1-4 in the shipped file).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// An amount of credits. Never negative.
pub type Credits = u64;
/// A number of items of one kind (one item = one hold slot).
pub type ItemCount = u32;
/// An upgrade level (0 = not bought).
pub type Level = u32;
/// A zone number, 1-based.
pub type ZoneId = u8;

/// The shipped catalog text, embedded so client and server carry the same file.
pub const SHIPPED_CATALOG_TOML: &str = include_str!("../data/catalog.toml");

/// Largest zone side the simulation's fixed-point positions can hold (px).
pub const MAX_ZONE_SIZE: f64 = 30_000.0;

/// Why a catalog text was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CatalogError {
    #[error("catalog is not valid TOML or has the wrong shape: {0}")]
    Parse(String),
    #[error("unsupported catalog schema_version {found}, this build reads {expected}")]
    SchemaVersion { found: u32, expected: u32 },
    #[error("duplicate {what} id `{id}`")]
    DuplicateId { what: &'static str, id: String },
    #[error("{context} names unknown debris kind `{id}`")]
    UnknownDebrisKind { context: String, id: String },
    #[error("{context} names unknown zone {zone}")]
    UnknownZone { context: String, zone: ZoneId },
    #[error(
        "upgrade `{upgrade}`: cost of level {level} ({cost}) is not above the previous level's ({previous})"
    )]
    NonMonotonicCosts {
        upgrade: UpgradeId,
        level: Level,
        cost: Credits,
        previous: Credits,
    },
    #[error("upgrade `{upgrade}` has no levels (empty cost list)")]
    NoLevels { upgrade: UpgradeId },
    #[error("zone {zone}: spawn weights sum to zero")]
    ZeroWeightSum { zone: ZoneId },
    #[error("zone {zone}: hub `{hub}` at ({x}, {y}) lies outside the zone (half size {half_size})")]
    HubOutsideZone {
        zone: ZoneId,
        hub: String,
        x: f64,
        y: f64,
        half_size: f64,
    },
    #[error("{field}: {reason}")]
    InvalidValue { field: String, reason: String },
}

/// How rare a debris kind is. `legendary` finds trigger an AI message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rarity {
    Common,
    Uncommon,
    Rare,
    Legendary,
}

/// One kind of debris (items stack by kind).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebrisKind {
    pub id: String,
    pub name: String,
    /// Credits paid per unit at a hub (before `sell_price_percent`).
    pub value: Credits,
    pub rarity: Rarity,
    /// `#rrggbb`, used to tint the sprite.
    pub colour: String,
}

/// Position of a kind in [`Catalog::debris_kinds`]; what the simulation stores
/// per piece (one byte instead of a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct KindIndex(pub u8);

/// A trading hub inside a zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubDef {
    pub name: String,
    pub x: f64,
    pub y: f64,
}

/// One zone: a square centred on the origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneDef {
    pub id: ZoneId,
    pub name: String,
    /// `zone_access` upgrade level needed to enter.
    pub access: Level,
    /// Side of the square, px.
    pub size: f64,
    pub max_debris: u32,
    pub initial_debris: u32,
    /// Seconds between spawn slots once the run has started.
    pub spawn_interval: f64,
    /// Relative spawn weights by debris id; missing ids weigh 0.
    pub weights: BTreeMap<String, u32>,
    pub hubs: Vec<HubDef>,
}

impl ZoneDef {
    /// Half the side of the square: the zone spans `[-half, half)` on both axes.
    pub fn half_size(&self) -> f64 {
        self.size * 0.5
    }
}

/// Ship handling at upgrade level 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShipTuning {
    pub max_forward_speed: f64,
    pub reverse_speed_factor: f64,
    pub acceleration: f64,
    pub braking: f64,
    pub drag: f64,
    /// Degrees per second.
    pub turn_rate_at_rest: f64,
    /// Degrees per second.
    pub turn_rate_at_max_speed: f64,
    pub wall_warning_distance: f64,
    pub wall_return_rate: f64,
    pub wall_max_overshoot: f64,
}

/// Trading hub rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubRules {
    pub interact_radius: f64,
    pub sell_price_percent: u32,
}

/// Collection and hold rules at upgrade level 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionRules {
    pub base_range: f64,
    pub base_cooldown: f64,
    pub cooldown_floor: f64,
    pub hold_base_capacity: ItemCount,
    pub magnet_pull_speed: f64,
    pub scanner_min_value: Credits,
}

/// Starting state of a new player.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRules {
    pub credits: Credits,
}

use crate::lobby::LobbyRules;

/// The six upgrades. Their effects are code (see `economy::ShipEffects`);
/// their names, costs and per-level numbers are data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpgradeId {
    SpeedBoost,
    InventoryExpansion,
    CollectionEfficiency,
    CargoMagnet,
    ZoneAccess,
    DebrisScanner,
}

impl UpgradeId {
    pub const COUNT: usize = 6;
    /// Every upgrade, in catalog order.
    pub const ALL: [UpgradeId; Self::COUNT] = [
        UpgradeId::SpeedBoost,
        UpgradeId::InventoryExpansion,
        UpgradeId::CollectionEfficiency,
        UpgradeId::CargoMagnet,
        UpgradeId::ZoneAccess,
        UpgradeId::DebrisScanner,
    ];

    /// The string id used in the data file and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            UpgradeId::SpeedBoost => "speed_boost",
            UpgradeId::InventoryExpansion => "inventory_expansion",
            UpgradeId::CollectionEfficiency => "collection_efficiency",
            UpgradeId::CargoMagnet => "cargo_magnet",
            UpgradeId::ZoneAccess => "zone_access",
            UpgradeId::DebrisScanner => "debris_scanner",
        }
    }

    /// Position in [`UpgradeId::ALL`].
    pub fn ordinal(self) -> usize {
        self as usize
    }
}

impl fmt::Display for UpgradeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the six upgrade ids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown upgrade `{0}`")]
pub struct UnknownUpgrade(pub String);

impl FromStr for UpgradeId {
    type Err = UnknownUpgrade;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UpgradeId::ALL
            .into_iter()
            .find(|id| id.as_str() == s)
            .ok_or_else(|| UnknownUpgrade(s.to_owned()))
    }
}

/// Name, description and cost table shared by every upgrade.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpgradeInfo<'a> {
    pub id: UpgradeId,
    pub name: &'a str,
    pub description: &'a str,
    /// `costs[n]` buys level `n + 1`; the max level is `costs.len()`.
    pub costs: &'a [Credits],
}

impl UpgradeInfo<'_> {
    pub fn max_level(&self) -> Level {
        self.costs.len() as Level
    }

    /// Price of the level after `current`, or `None` when maxed.
    pub fn next_cost(&self, current: Level) -> Option<Credits> {
        self.costs.get(current as usize).copied()
    }
}

macro_rules! upgrade_def {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            pub name: String,
            pub description: String,
            pub costs: Vec<Credits>,
            $($(#[$fmeta])* pub $field: $ty,)*
        }
    };
}

upgrade_def!(
    /// Thrusters: more top speed and acceleration per level.
    SpeedBoostDef {
        max_speed_per_level: f64,
        acceleration_per_level: f64,
    }
);
upgrade_def!(
    /// Cargo bay: more hold slots per level.
    InventoryExpansionDef { hold_per_level: ItemCount }
);
upgrade_def!(
    /// Salvage arm: longer reach, shorter cooldown (down to the floor).
    CollectionEfficiencyDef {
        range_per_level: f64,
        cooldown_per_level: f64,
    }
);
upgrade_def!(
    /// Cargo magnet: from level 1, every `base_interval - interval_per_level *
    /// level` s pulls up to `base_pieces + pieces_per_level * level` pieces
    /// within `base_radius + radius_per_level * level` px.
    CargoMagnetDef {
        base_interval: f64,
        interval_per_level: f64,
        base_pieces: u32,
        pieces_per_level: u32,
        base_radius: f64,
        radius_per_level: f64,
    }
);
upgrade_def!(
    /// Clearance: level n lets the player enter zones whose `access` <= n.
    ZoneAccessDef {}
);
upgrade_def!(
    /// Scanner: radar radius `base_radius + radius_per_level * level` from level 1.
    DebrisScannerDef {
        base_radius: f64,
        radius_per_level: f64,
        show_values_from_level: Level,
    }
);

/// The `[upgrades.*]` tables. Unknown upgrade ids are refused by serde.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpgradeDefs {
    pub speed_boost: SpeedBoostDef,
    pub inventory_expansion: InventoryExpansionDef,
    pub collection_efficiency: CollectionEfficiencyDef,
    pub cargo_magnet: CargoMagnetDef,
    pub zone_access: ZoneAccessDef,
    pub debris_scanner: DebrisScannerDef,
}

/// When a station AI message fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MessageTrigger {
    FirstCollection,
    FirstSale,
    FirstUpgrade,
    HoldFull,
    ZoneUnlocked { zone: ZoneId },
    FirstLegendary,
    DebrisCollected { at_least: u64 },
    CreditsEarned { at_least: u64 },
    FirstLobbyJoined,
    FirstTrade,
}

/// Whether a message can fire again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageRepeat {
    /// Fires once per player, ever.
    #[default]
    Once,
    /// Fires at most once per zone run (the client enforces this).
    PerRun,
}

/// A station AI message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageDef {
    pub id: String,
    pub trigger: MessageTrigger,
    #[serde(default)]
    pub repeat: MessageRepeat,
    pub text: String,
}

/// The data file exactly as written, before validation. Also the JSON shape
/// of `GET /api/v1/catalog`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogData {
    pub schema_version: u32,
    pub start: StartRules,
    pub debris: Vec<DebrisKind>,
    pub zones: Vec<ZoneDef>,
    pub ship: ShipTuning,
    pub hubs: HubRules,
    pub collection: CollectionRules,
    pub upgrades: UpgradeDefs,
    pub lobby: LobbyRules,
    pub messages: Vec<MessageDef>,
}

/// The schema version this build reads.
pub const SCHEMA_VERSION: u32 = 1;

/// A validated catalog with lookup tables. Serialises as [`CatalogData`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CatalogData", into = "CatalogData")]
pub struct Catalog {
    data: CatalogData,
    kind_by_id: HashMap<String, KindIndex>,
    /// Per zone (same order as `data.zones`): cumulative weights and the kind
    /// each bucket maps to, for picking a kind from one random number.
    weight_tables: Vec<WeightTable>,
}

/// Cumulative spawn weights of one zone.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightTable {
    /// Strictly increasing running sums; the last is the total.
    pub cumulative: Vec<u64>,
    pub kinds: Vec<KindIndex>,
}

impl WeightTable {
    pub fn total(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// Kind for a roll uniformly drawn from `0..total()`.
    pub fn pick(&self, roll: u64) -> KindIndex {
        let bucket = self.cumulative.partition_point(|&sum| sum <= roll);
        self.kinds[bucket.min(self.kinds.len() - 1)]
    }
}

impl From<Catalog> for CatalogData {
    fn from(catalog: Catalog) -> Self {
        catalog.data
    }
}

impl TryFrom<CatalogData> for Catalog {
    type Error = CatalogError;
    fn try_from(data: CatalogData) -> Result<Self, Self::Error> {
        Catalog::from_data(data)
    }
}

static SHIPPED: OnceLock<Result<Catalog, CatalogError>> = OnceLock::new();

impl Catalog {
    /// The catalog shipped in `game/data/catalog.toml`, parsed once.
    ///
    /// A unit test proves the shipped file valid, so this cannot fail in a
    /// tested build; [`Catalog::try_shipped`] is the non-panicking form.
    pub fn shipped() -> &'static Catalog {
        match Self::try_shipped() {
            Ok(catalog) => catalog,
            Err(error) => panic!("the embedded catalog.toml is invalid: {error}"),
        }
    }

    /// The shipped catalog, or why the embedded file is invalid.
    pub fn try_shipped() -> Result<&'static Catalog, &'static CatalogError> {
        SHIPPED
            .get_or_init(|| Catalog::from_toml_str(SHIPPED_CATALOG_TOML))
            .as_ref()
    }

    /// Parses and validates a catalog text.
    pub fn from_toml_str(text: &str) -> Result<Catalog, CatalogError> {
        let data: CatalogData =
            toml::from_str(text).map_err(|error| CatalogError::Parse(error.to_string()))?;
        Catalog::from_data(data)
    }

    /// Validates parsed data and builds the lookup tables.
    pub fn from_data(data: CatalogData) -> Result<Catalog, CatalogError> {
        validate(&data)?;
        let kind_by_id = data
            .debris
            .iter()
            .enumerate()
            .map(|(i, kind)| (kind.id.clone(), KindIndex(i as u8)))
            .collect::<HashMap<_, _>>();
        let weight_tables = data
            .zones
            .iter()
            .map(|zone| {
                let mut cumulative = Vec::new();
                let mut kinds = Vec::new();
                let mut running = 0u64;
                // Catalog order of kinds, not map order, so the table does not
                // depend on how ids sort.
                for (i, kind) in data.debris.iter().enumerate() {
                    let weight = zone.weights.get(&kind.id).copied().unwrap_or(0);
                    if weight > 0 {
                        running += u64::from(weight);
                        cumulative.push(running);
                        kinds.push(KindIndex(i as u8));
                    }
                }
                WeightTable { cumulative, kinds }
            })
            .collect();
        Ok(Catalog {
            data,
            kind_by_id,
            weight_tables,
        })
    }

    /// The raw data (also the `GET /catalog` body).
    pub fn data(&self) -> &CatalogData {
        &self.data
    }

    pub fn start(&self) -> &StartRules {
        &self.data.start
    }
    pub fn ship(&self) -> &ShipTuning {
        &self.data.ship
    }
    pub fn hubs(&self) -> &HubRules {
        &self.data.hubs
    }
    pub fn collection(&self) -> &CollectionRules {
        &self.data.collection
    }
    pub fn lobby(&self) -> &LobbyRules {
        &self.data.lobby
    }
    pub fn upgrade_defs(&self) -> &UpgradeDefs {
        &self.data.upgrades
    }
    pub fn messages(&self) -> &[MessageDef] {
        &self.data.messages
    }
    pub fn message(&self, id: &str) -> Option<&MessageDef> {
        self.data.messages.iter().find(|message| message.id == id)
    }

    /// Every debris kind, indexed by [`KindIndex`].
    pub fn debris_kinds(&self) -> &[DebrisKind] {
        &self.data.debris
    }

    /// Looks a kind up by its string id.
    pub fn kind_index(&self, id: &str) -> Option<KindIndex> {
        self.kind_by_id.get(id).copied()
    }

    /// The kind at an index (`None` only for an index from another catalog).
    pub fn kind(&self, index: KindIndex) -> Option<&DebrisKind> {
        self.data.debris.get(usize::from(index.0))
    }

    /// The kind with this string id.
    pub fn kind_by_id(&self, id: &str) -> Option<&DebrisKind> {
        self.kind_index(id).and_then(|index| self.kind(index))
    }

    /// Every zone, in file order.
    pub fn zones(&self) -> &[ZoneDef] {
        &self.data.zones
    }

    pub fn zone(&self, id: ZoneId) -> Option<&ZoneDef> {
        self.data.zones.iter().find(|zone| zone.id == id)
    }

    /// The spawn weight table of a zone.
    pub fn weight_table(&self, id: ZoneId) -> Option<&WeightTable> {
        let position = self.data.zones.iter().position(|zone| zone.id == id)?;
        self.weight_tables.get(position)
    }

    /// Name, description and costs of an upgrade.
    pub fn upgrade(&self, id: UpgradeId) -> UpgradeInfo<'_> {
        let u = &self.data.upgrades;
        let (name, description, costs) = match id {
            UpgradeId::SpeedBoost => (
                &u.speed_boost.name,
                &u.speed_boost.description,
                &u.speed_boost.costs,
            ),
            UpgradeId::InventoryExpansion => (
                &u.inventory_expansion.name,
                &u.inventory_expansion.description,
                &u.inventory_expansion.costs,
            ),
            UpgradeId::CollectionEfficiency => (
                &u.collection_efficiency.name,
                &u.collection_efficiency.description,
                &u.collection_efficiency.costs,
            ),
            UpgradeId::CargoMagnet => (
                &u.cargo_magnet.name,
                &u.cargo_magnet.description,
                &u.cargo_magnet.costs,
            ),
            UpgradeId::ZoneAccess => (
                &u.zone_access.name,
                &u.zone_access.description,
                &u.zone_access.costs,
            ),
            UpgradeId::DebrisScanner => (
                &u.debris_scanner.name,
                &u.debris_scanner.description,
                &u.debris_scanner.costs,
            ),
        };
        UpgradeInfo {
            id,
            name,
            description,
            costs,
        }
    }
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> CatalogError {
    CatalogError::InvalidValue {
        field: field.into(),
        reason: reason.into(),
    }
}

fn require_positive(field: &str, value: f64) -> Result<(), CatalogError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("must be a finite number > 0, is {value}"),
        ))
    }
}

fn require_non_negative(field: &str, value: f64) -> Result<(), CatalogError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("must be a finite number >= 0, is {value}"),
        ))
    }
}

fn validate(data: &CatalogData) -> Result<(), CatalogError> {
    if data.schema_version != SCHEMA_VERSION {
        return Err(CatalogError::SchemaVersion {
            found: data.schema_version,
            expected: SCHEMA_VERSION,
        });
    }

    validate_debris(data)?;
    validate_zones(data)?;
    validate_tuning(data)?;
    validate_upgrades(data)?;
    validate_lobby(&data.lobby)?;
    validate_messages(data)
}

fn validate_debris(data: &CatalogData) -> Result<(), CatalogError> {
    if data.debris.is_empty() {
        return Err(invalid("debris", "at least one debris kind is needed"));
    }
    // Kinds are stored as one byte per piece in the simulation.
    if data.debris.len() > usize::from(u8::MAX) {
        return Err(invalid("debris", "at most 255 debris kinds"));
    }
    let mut seen = std::collections::HashSet::new();
    for kind in &data.debris {
        if kind.id.is_empty()
            || !kind
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
        {
            return Err(invalid(
                format!("debris `{}`", kind.id),
                "ids are non-empty snake_case (a-z, 0-9, _)",
            ));
        }
        if !seen.insert(kind.id.as_str()) {
            return Err(CatalogError::DuplicateId {
                what: "debris",
                id: kind.id.clone(),
            });
        }
        let colour_ok = kind.colour.len() == 7
            && kind.colour.starts_with('#')
            && kind.colour[1..].chars().all(|c| c.is_ascii_hexdigit());
        if !colour_ok {
            return Err(invalid(
                format!("debris `{}`.colour", kind.id),
                format!("must look like #rrggbb, is `{}`", kind.colour),
            ));
        }
    }
    Ok(())
}

fn validate_zones(data: &CatalogData) -> Result<(), CatalogError> {
    if data.zones.is_empty() {
        return Err(invalid("zones", "at least one zone is needed"));
    }
    let max_access = data.upgrades.zone_access.costs.len() as Level;
    let mut seen = std::collections::HashSet::new();
    for zone in &data.zones {
        let name = format!("zone {}", zone.id);
        if zone.id == 0 {
            return Err(invalid(name, "zone ids start at 1"));
        }
        if !seen.insert(zone.id) {
            return Err(CatalogError::DuplicateId {
                what: "zone",
                id: zone.id.to_string(),
            });
        }
        require_positive(&format!("{name}.size"), zone.size)?;
        if zone.size > MAX_ZONE_SIZE {
            return Err(invalid(
                format!("{name}.size"),
                format!("at most {MAX_ZONE_SIZE} px (fixed-point range)"),
            ));
        }
        require_positive(&format!("{name}.spawn_interval"), zone.spawn_interval)?;
        if zone.max_debris == 0 {
            return Err(invalid(format!("{name}.max_debris"), "must be > 0"));
        }
        if zone.initial_debris > zone.max_debris {
            return Err(invalid(
                format!("{name}.initial_debris"),
                format!(
                    "{} is more than max_debris {}",
                    zone.initial_debris, zone.max_debris
                ),
            ));
        }
        if zone.access > max_access {
            return Err(invalid(
                format!("{name}.access"),
                format!(
                    "{} is above zone_access's max level {max_access}",
                    zone.access
                ),
            ));
        }
        for (id, _) in zone.weights.iter() {
            if !data.debris.iter().any(|kind| &kind.id == id) {
                return Err(CatalogError::UnknownDebrisKind {
                    context: format!("{name}.weights"),
                    id: id.clone(),
                });
            }
        }
        if zone.weights.values().all(|&weight| weight == 0) {
            return Err(CatalogError::ZeroWeightSum { zone: zone.id });
        }
        if zone.hubs.is_empty() {
            return Err(invalid(
                format!("{name}.hubs"),
                "a zone needs at least one hub",
            ));
        }
        let half = zone.half_size();
        for hub in &zone.hubs {
            let inside =
                hub.x.is_finite() && hub.y.is_finite() && hub.x.abs() < half && hub.y.abs() < half;
            if !inside {
                return Err(CatalogError::HubOutsideZone {
                    zone: zone.id,
                    hub: hub.name.clone(),
                    x: hub.x,
                    y: hub.y,
                    half_size: half,
                });
            }
        }
    }
    // Zone 1 must be reachable with no clearance, or new players are stuck.
    if !data.zones.iter().any(|zone| zone.access == 0) {
        return Err(invalid("zones", "some zone must have access = 0"));
    }
    Ok(())
}

fn validate_tuning(data: &CatalogData) -> Result<(), CatalogError> {
    let ship = &data.ship;
    require_positive("ship.max_forward_speed", ship.max_forward_speed)?;
    require_non_negative("ship.reverse_speed_factor", ship.reverse_speed_factor)?;
    require_positive("ship.acceleration", ship.acceleration)?;
    require_positive("ship.braking", ship.braking)?;
    require_non_negative("ship.drag", ship.drag)?;
    require_positive("ship.turn_rate_at_rest", ship.turn_rate_at_rest)?;
    require_non_negative("ship.turn_rate_at_max_speed", ship.turn_rate_at_max_speed)?;
    require_non_negative("ship.wall_warning_distance", ship.wall_warning_distance)?;
    require_positive("ship.wall_return_rate", ship.wall_return_rate)?;
    require_non_negative("ship.wall_max_overshoot", ship.wall_max_overshoot)?;

    require_positive("hubs.interact_radius", data.hubs.interact_radius)?;
    if data.hubs.sell_price_percent == 0 || data.hubs.sell_price_percent > 1000 {
        return Err(invalid(
            "hubs.sell_price_percent",
            "must be within 1..=1000",
        ));
    }

    let c = &data.collection;
    require_positive("collection.base_range", c.base_range)?;
    require_positive("collection.base_cooldown", c.base_cooldown)?;
    require_positive("collection.cooldown_floor", c.cooldown_floor)?;
    require_positive("collection.magnet_pull_speed", c.magnet_pull_speed)?;
    if c.cooldown_floor > c.base_cooldown {
        return Err(invalid(
            "collection.cooldown_floor",
            "must not be above base_cooldown",
        ));
    }
    Ok(())
}

fn validate_costs(id: UpgradeId, costs: &[Credits]) -> Result<(), CatalogError> {
    if costs.is_empty() {
        return Err(CatalogError::NoLevels { upgrade: id });
    }
    if costs[0] == 0 {
        return Err(invalid(format!("upgrades.{id}.costs"), "costs must be > 0"));
    }
    for (i, pair) in costs.windows(2).enumerate() {
        if pair[1] <= pair[0] {
            return Err(CatalogError::NonMonotonicCosts {
                upgrade: id,
                level: i as Level + 2,
                cost: pair[1],
                previous: pair[0],
            });
        }
    }
    Ok(())
}

fn validate_upgrades(data: &CatalogData) -> Result<(), CatalogError> {
    let u = &data.upgrades;
    validate_costs(UpgradeId::SpeedBoost, &u.speed_boost.costs)?;
    validate_costs(UpgradeId::InventoryExpansion, &u.inventory_expansion.costs)?;
    validate_costs(
        UpgradeId::CollectionEfficiency,
        &u.collection_efficiency.costs,
    )?;
    validate_costs(UpgradeId::CargoMagnet, &u.cargo_magnet.costs)?;
    validate_costs(UpgradeId::ZoneAccess, &u.zone_access.costs)?;
    validate_costs(UpgradeId::DebrisScanner, &u.debris_scanner.costs)?;

    require_non_negative(
        "upgrades.speed_boost.max_speed_per_level",
        u.speed_boost.max_speed_per_level,
    )?;
    require_non_negative(
        "upgrades.speed_boost.acceleration_per_level",
        u.speed_boost.acceleration_per_level,
    )?;
    require_non_negative(
        "upgrades.collection_efficiency.range_per_level",
        u.collection_efficiency.range_per_level,
    )?;
    require_non_negative(
        "upgrades.collection_efficiency.cooldown_per_level",
        u.collection_efficiency.cooldown_per_level,
    )?;

    let magnet = &u.cargo_magnet;
    require_non_negative("upgrades.cargo_magnet.base_radius", magnet.base_radius)?;
    require_non_negative(
        "upgrades.cargo_magnet.radius_per_level",
        magnet.radius_per_level,
    )?;
    require_non_negative(
        "upgrades.cargo_magnet.interval_per_level",
        magnet.interval_per_level,
    )?;
    let max_magnet = magnet.costs.len() as f64;
    let slowest = magnet.base_interval - magnet.interval_per_level;
    let fastest = magnet.base_interval - magnet.interval_per_level * max_magnet;
    if !(slowest.is_finite() && fastest > 0.0) {
        return Err(invalid(
            "upgrades.cargo_magnet",
            format!("interval must stay > 0 at every level (max level gives {fastest})"),
        ));
    }

    let scanner = &u.debris_scanner;
    require_non_negative("upgrades.debris_scanner.base_radius", scanner.base_radius)?;
    require_non_negative(
        "upgrades.debris_scanner.radius_per_level",
        scanner.radius_per_level,
    )?;
    Ok(())
}

fn validate_lobby(lobby: &LobbyRules) -> Result<(), CatalogError> {
    if lobby.capacity < 2 {
        return Err(invalid("lobby.capacity", "a lobby needs room for two"));
    }
    if lobby.code_length == 0 {
        return Err(invalid("lobby.code_length", "must be > 0"));
    }
    let alphabet: Vec<char> = lobby.code_alphabet.chars().collect();
    let mut sorted = alphabet.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if alphabet.len() < 2
        || sorted.len() != alphabet.len()
        || !alphabet.iter().all(char::is_ascii_alphanumeric)
    {
        return Err(invalid(
            "lobby.code_alphabet",
            "needs at least two distinct ASCII letters or digits",
        ));
    }
    require_positive("lobby.floor_width", lobby.floor_width)?;
    require_positive("lobby.floor_height", lobby.floor_height)?;
    require_positive("lobby.walk_speed", lobby.walk_speed)?;
    require_positive("lobby.trade_reach", lobby.trade_reach)?;
    if lobby.offer_expiry_seconds == 0 {
        return Err(invalid("lobby.offer_expiry_seconds", "must be > 0"));
    }
    Ok(())
}

fn validate_messages(data: &CatalogData) -> Result<(), CatalogError> {
    let mut seen = std::collections::HashSet::new();
    for message in &data.messages {
        if message.id.is_empty() {
            return Err(invalid("messages", "a message has an empty id"));
        }
        if !seen.insert(message.id.as_str()) {
            return Err(CatalogError::DuplicateId {
                what: "message",
                id: message.id.clone(),
            });
        }
        if message.text.trim().is_empty() {
            return Err(invalid(
                format!("message `{}`", message.id),
                "text is empty",
            ));
        }
        if let MessageTrigger::ZoneUnlocked { zone } = message.trigger
            && !data.zones.iter().any(|z| z.id == zone)
        {
            return Err(CatalogError::UnknownZone {
                context: format!("message `{}`", message.id),
                zone,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lobby::LobbyCodeError;

    fn shipped_data() -> CatalogData {
        Catalog::shipped().data().clone()
    }

    #[test]
    fn shipped_catalog_is_valid() {
        let catalog = Catalog::try_shipped().expect("shipped catalog must validate");
        assert_eq!(catalog.debris_kinds().len(), 8);
        assert_eq!(catalog.zones().len(), 4);
        assert_eq!(catalog.messages().len(), 16);
    }

    #[test]
    fn shipped_returns_the_same_instance() {
        assert!(std::ptr::eq(Catalog::shipped(), Catalog::shipped()));
    }

    #[test]
    fn debris_values_match_the_design() {
        let c = Catalog::shipped();
        let expected = [
            ("scrap_metal", 5, Rarity::Common),
            ("bio_waste", 25, Rarity::Common),
            ("energy_cell", 75, Rarity::Uncommon),
            ("broken_satellite", 150, Rarity::Uncommon),
            ("ai_component", 500, Rarity::Rare),
            ("nano_material", 800, Rarity::Rare),
            ("unknown_artifact", 1000, Rarity::Legendary),
            ("quantum_core", 2500, Rarity::Legendary),
        ];
        for (id, value, rarity) in expected {
            let kind = c.kind_by_id(id).unwrap();
            assert_eq!((kind.value, kind.rarity), (value, rarity), "{id}");
        }
    }

    #[test]
    fn zones_match_the_design() {
        let c = Catalog::shipped();
        let expected = [
            (1, 0, 6000.0, 600, 400, 100),
            (2, 1, 8000.0, 900, 600, 100),
            (3, 2, 10000.0, 1200, 800, 100),
            (4, 3, 12000.0, 1500, 1000, 100),
        ];
        for (id, access, size, max, initial, weight_sum) in expected {
            let zone = c.zone(id).unwrap();
            assert_eq!(
                (zone.access, zone.size, zone.max_debris, zone.initial_debris),
                (access, size, max, initial)
            );
            assert_eq!(c.weight_table(id).unwrap().total(), weight_sum);
            assert_eq!(zone.hubs.len(), 2);
        }
        assert_eq!(c.zone(1).unwrap().weights["scrap_metal"], 50);
        assert_eq!(c.zone(4).unwrap().weights["quantum_core"], 15);
    }

    #[test]
    fn upgrade_costs_match_the_design() {
        let c = Catalog::shipped();
        assert_eq!(
            c.upgrade(UpgradeId::SpeedBoost).costs,
            [100, 150, 225, 338, 506]
        );
        assert_eq!(
            c.upgrade(UpgradeId::InventoryExpansion).costs,
            [200, 260, 338, 439, 571, 743, 965, 1255, 1631, 2121]
        );
        assert_eq!(
            c.upgrade(UpgradeId::CollectionEfficiency).costs,
            [150, 210, 294, 412, 576]
        );
        assert_eq!(c.upgrade(UpgradeId::CargoMagnet).costs, [400, 680, 1156]);
        assert_eq!(c.upgrade(UpgradeId::ZoneAccess).costs, [500, 1000, 2000]);
        assert_eq!(c.upgrade(UpgradeId::DebrisScanner).costs, [300, 480, 768]);
        let maxes: Vec<Level> = UpgradeId::ALL
            .iter()
            .map(|&id| c.upgrade(id).max_level())
            .collect();
        assert_eq!(maxes, [5, 10, 5, 3, 3, 3]);
        assert_eq!(c.upgrade(UpgradeId::CargoMagnet).next_cost(3), None);
        assert_eq!(c.upgrade(UpgradeId::CargoMagnet).next_cost(1), Some(680));
    }

    #[test]
    fn upgrade_ids_round_trip_as_strings() {
        for id in UpgradeId::ALL {
            assert_eq!(id.as_str().parse::<UpgradeId>(), Ok(id));
            assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{id}\""));
        }
        assert!("warp_drive".parse::<UpgradeId>().is_err());
    }

    #[test]
    fn weight_table_picks_each_kind_in_proportion() {
        let c = Catalog::shipped();
        let table = c.weight_table(1).unwrap();
        // Zone 1: scrap 50, bio 30, satellite 15, ai 4, artifact 1.
        let count = |kind: &str| {
            let wanted = c.kind_index(kind).unwrap();
            (0..table.total())
                .filter(|&roll| table.pick(roll) == wanted)
                .count()
        };
        assert_eq!(count("scrap_metal"), 50);
        assert_eq!(count("bio_waste"), 30);
        assert_eq!(count("broken_satellite"), 15);
        assert_eq!(count("ai_component"), 4);
        assert_eq!(count("unknown_artifact"), 1);
        assert_eq!(count("quantum_core"), 0);
    }

    #[test]
    fn json_round_trip_keeps_the_catalog() {
        let c = Catalog::shipped();
        let json = serde_json::to_string(c).unwrap();
        let back: Catalog = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, c);
    }

    #[test]
    fn unknown_weight_id_is_refused() {
        let mut data = shipped_data();
        data.zones[0].weights.insert("moon_rock".into(), 3);
        let error = Catalog::from_data(data).unwrap_err();
        assert!(
            matches!(error, CatalogError::UnknownDebrisKind { ref id, .. } if id == "moon_rock")
        );
        assert!(error.to_string().contains("zone 1.weights"));
    }

    #[test]
    fn unknown_upgrade_table_is_refused() {
        let text =
            SHIPPED_CATALOG_TOML.replace("[upgrades.debris_scanner]", "[upgrades.debris_scaner]");
        let error = Catalog::from_toml_str(&text).unwrap_err();
        assert!(
            matches!(error, CatalogError::Parse(ref m) if m.contains("debris_scaner")),
            "{error}"
        );
    }

    #[test]
    fn non_monotonic_costs_are_refused() {
        let mut data = shipped_data();
        data.upgrades.speed_boost.costs = vec![100, 150, 150];
        assert_eq!(
            Catalog::from_data(data).unwrap_err(),
            CatalogError::NonMonotonicCosts {
                upgrade: UpgradeId::SpeedBoost,
                level: 3,
                cost: 150,
                previous: 150
            }
        );
    }

    #[test]
    fn empty_costs_are_refused() {
        let mut data = shipped_data();
        data.upgrades.cargo_magnet.costs.clear();
        assert_eq!(
            Catalog::from_data(data).unwrap_err(),
            CatalogError::NoLevels {
                upgrade: UpgradeId::CargoMagnet
            }
        );
    }

    #[test]
    fn zero_weight_sum_is_refused() {
        let mut data = shipped_data();
        for weight in data.zones[1].weights.values_mut() {
            *weight = 0;
        }
        assert_eq!(
            Catalog::from_data(data).unwrap_err(),
            CatalogError::ZeroWeightSum { zone: 2 }
        );
    }

    #[test]
    fn hub_outside_zone_is_refused() {
        let mut data = shipped_data();
        data.zones[0].hubs[1].x = 3000.0;
        let error = Catalog::from_data(data).unwrap_err();
        assert!(
            matches!(error, CatalogError::HubOutsideZone { zone: 1, .. }),
            "{error}"
        );
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let mut data = shipped_data();
        data.debris[1].id = "scrap_metal".into();
        assert!(matches!(
            Catalog::from_data(data).unwrap_err(),
            CatalogError::DuplicateId { what: "debris", .. }
        ));
        let mut data = shipped_data();
        data.zones[1].id = 1;
        assert!(matches!(
            Catalog::from_data(data).unwrap_err(),
            CatalogError::DuplicateId { what: "zone", .. }
        ));
        let mut data = shipped_data();
        data.messages[1].id = data.messages[0].id.clone();
        assert!(matches!(
            Catalog::from_data(data).unwrap_err(),
            CatalogError::DuplicateId {
                what: "message",
                ..
            }
        ));
    }

    #[test]
    fn bad_numbers_are_refused() {
        let mut data = shipped_data();
        data.zones[0].initial_debris = 601;
        assert!(Catalog::from_data(data).is_err());
        let mut data = shipped_data();
        data.ship.acceleration = f64::NAN;
        assert!(Catalog::from_data(data).is_err());
        let mut data = shipped_data();
        data.zones[0].size = 100_000.0;
        assert!(Catalog::from_data(data).is_err());
        let mut data = shipped_data();
        data.upgrades.cargo_magnet.interval_per_level = 0.2;
        assert!(Catalog::from_data(data).is_err());
        let mut data = shipped_data();
        data.zones[3].access = 4;
        assert!(Catalog::from_data(data).is_err());
        let mut data = shipped_data();
        data.debris[0].colour = "grey".into();
        assert!(Catalog::from_data(data).is_err());
    }

    #[test]
    fn message_for_unknown_zone_is_refused() {
        let mut data = shipped_data();
        data.messages[4].trigger = MessageTrigger::ZoneUnlocked { zone: 9 };
        assert!(matches!(
            Catalog::from_data(data).unwrap_err(),
            CatalogError::UnknownZone { zone: 9, .. }
        ));
    }

    #[test]
    fn wrong_schema_version_is_refused() {
        let text = SHIPPED_CATALOG_TOML.replace("schema_version = 1", "schema_version = 2");
        assert_eq!(
            Catalog::from_toml_str(&text).unwrap_err(),
            CatalogError::SchemaVersion {
                found: 2,
                expected: 1
            }
        );
    }

    #[test]
    fn garbage_is_a_parse_error_not_a_panic() {
        assert!(matches!(
            Catalog::from_toml_str("[[[ nope"),
            Err(CatalogError::Parse(_))
        ));
        assert!(matches!(
            Catalog::from_toml_str(""),
            Err(CatalogError::Parse(_))
        ));
    }

    #[test]
    fn shipped_lobby_room_codes_are_checked_against_the_alphabet_and_length() {
        let rules = Catalog::shipped().lobby();
        assert_eq!(rules.normalise_code(" ab2cd9 ").as_deref(), Ok("AB2CD9"));
        assert!(matches!(
            rules.normalise_code("ABCDE0"),
            Err(LobbyCodeError::BadCharacter { found: '0', .. })
        ));
        assert!(matches!(
            rules.normalise_code("ABC"),
            Err(LobbyCodeError::WrongLength {
                expected: 6,
                got: 3
            })
        ));
        assert!(rules.normalise_code("").is_err());
    }

    #[test]
    fn shipped_lobby_trade_reach_and_floor_bounds() {
        let rules = Catalog::shipped().lobby();
        assert!(rules.within_trade_reach((0.0, 0.0), (96.0, 0.0)));
        assert!(!rules.within_trade_reach((0.0, 0.0), (68.0, 68.0)));
        assert_eq!(rules.clamp_to_floor(-5.0, 2000.0), (0.0, 900.0));
        assert_eq!(rules.clamp_to_floor(f64::NAN, 10.0), (0.0, 10.0));
    }
}
