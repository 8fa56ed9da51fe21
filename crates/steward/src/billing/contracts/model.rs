//! What a contract is made of, and the rules its input must follow, pure:
//! each line kind takes the fields that mean something for it and refuses
//! the others, so a contract says exactly what it bills.

use crate::billing::model::money::{self, QuantityInput};
use crate::billing::model::period::Cycle;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What a contract line bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// Per managed device (of a class, if given), counted from the devices.
    PerDevice,
    /// Per covered user, counted from the client's contacts.
    PerUser,
    /// A fixed fee.
    Flat,
    /// Prepaid hours each cycle, drawn down by billable time; past them, the overage rate.
    BlockHours,
    /// Billable time not covered elsewhere, at the work type's rate.
    TimeAndMaterials,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::PerDevice => "per_device",
            LineKind::PerUser => "per_user",
            LineKind::Flat => "flat",
            LineKind::BlockHours => "block_hours",
            LineKind::TimeAndMaterials => "time_and_materials",
        }
    }

    pub fn parse(s: &str) -> Option<LineKind> {
        [LineKind::PerDevice, LineKind::PerUser, LineKind::Flat, LineKind::BlockHours, LineKind::TimeAndMaterials]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// Whether the line's quantity can be a live count.
    pub fn counted(self) -> bool {
        matches!(self, LineKind::PerDevice | LineKind::PerUser)
    }
}

/// Billed at the start of each cycle, or at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Billed {
    Advance,
    Arrears,
}

impl Billed {
    pub fn as_str(self) -> &'static str {
        match self {
            Billed::Advance => "advance",
            Billed::Arrears => "arrears",
        }
    }

    pub fn parse(s: &str) -> Option<Billed> {
        match s {
            "advance" => Some(Billed::Advance),
            "arrears" => Some(Billed::Arrears),
            _ => None,
        }
    }
}

/// What kind of device a per-device line counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceClass {
    Workstation,
    Server,
    Network,
}

impl DeviceClass {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceClass::Workstation => "workstation",
            DeviceClass::Server => "server",
            DeviceClass::Network => "network",
        }
    }

    pub fn parse(s: &str) -> Option<DeviceClass> {
        match s {
            "workstation" => Some(DeviceClass::Workstation),
            "server" => Some(DeviceClass::Server),
            "network" => Some(DeviceClass::Network),
            _ => None,
        }
    }

    /// A device's class from the system it runs, when nobody set one:
    /// server editions of Windows and Linux machines are servers, the
    /// rest (Windows desktops, macOS) workstations.
    pub fn derived(os: &str) -> DeviceClass {
        let os = os.to_ascii_lowercase();
        if os.contains("server") || os.contains("linux") || os.contains("ubuntu") || os.contains("debian") || os.contains("red hat") {
            DeviceClass::Server
        } else {
            DeviceClass::Workstation
        }
    }
}

/// A line of a contract, as sent.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    /// The line to change (on a `PATCH`); absent: a new line.
    pub id: Option<i64>,
    pub kind: LineKind,
    #[schema(value_type = crate::validate::Name)]
    pub description: String,
    /// The price of one unit per cycle (a decimal string, e.g. `"12.50"`);
    /// for a block of hours, the block's price. Not for time and materials.
    #[schema(value_type = Option<String>, example = "12.50")]
    pub unit_price: Option<String>,
    /// Units billed each cycle (a number or a decimal string); per-device
    /// and per-user lines may follow the count instead.
    #[schema(value_type = Option<String>)]
    pub quantity: Option<QuantityInput>,
    /// Per device or per user: bill the live count rather than `quantity`.
    pub follow_count: Option<bool>,
    /// Per device: only devices of this class.
    pub device_class: Option<DeviceClass>,
    /// Block of hours: the hours each cycle buys.
    #[schema(value_type = Option<String>)]
    pub hours: Option<QuantityInput>,
    /// Block of hours: the hourly rate past the block.
    #[schema(value_type = Option<String>)]
    pub overage_rate: Option<String>,
    /// Block of hours: unused hours carry over to the next cycle (once).
    pub rollover: Option<bool>,
    /// Percent; absent: the contract's rate.
    #[schema(value_type = Option<String>)]
    pub tax_rate: Option<String>,
}

/// A line as kept (the `ops` layer adds ids and positions).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub id: Option<i64>,
    pub kind: LineKind,
    pub description: String,
    pub unit_price: Decimal,
    pub quantity: Decimal,
    pub follow_count: bool,
    pub device_class: Option<DeviceClass>,
    pub hours: Option<Decimal>,
    pub overage_rate: Option<Decimal>,
    pub rollover: bool,
    pub tax_rate: Option<Decimal>,
}

/// A percent between 0 and 100.
pub fn tax_rate(s: &str) -> Result<Decimal, String> {
    let d = money::parse(s, "a tax rate")?;
    if d > Decimal::ONE_HUNDRED {
        return Err("a tax rate is a percent between 0 and 100".into());
    }
    Ok(d)
}

/// A day written `2026-01-31`.
pub fn date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| (1990..=2200).contains(&chrono::Datelike::year(d)))
        .ok_or_else(|| format!("{s:?} is not a day written like 2026-01-31"))
}

/// Checks one line; errors name the field (`lines[2].hours: …`).
pub fn check_line(i: usize, l: &LineInput) -> Result<Line, (String, String)> {
    let field = |f: &str| format!("lines[{i}].{f}");
    let bad = |f: &str, m: &str| (field(f), m.to_string());
    let description = crate::validate::Name::parse(&l.description).map_err(|m| (field("description"), m))?.into_string();
    let price = |f: &str, s: &Option<String>| -> Result<Option<Decimal>, (String, String)> {
        s.as_deref().map(|s| money::parse(s, "a price").map_err(|m| (field(f), m))).transpose()
    };
    let unit_price = price("unit_price", &l.unit_price)?;
    let overage_rate = price("overage_rate", &l.overage_rate)?;
    let quantity = l.quantity.as_ref().map(|q| q.parse("a quantity").map_err(|m| (field("quantity"), m))).transpose()?;
    let hours = l.hours.as_ref().map(|q| q.parse("hours").map_err(|m| (field("hours"), m))).transpose()?;
    let tax = l.tax_rate.as_deref().map(|s| tax_rate(s).map_err(|m| (field("tax_rate"), m))).transpose()?;
    let follow = l.follow_count.unwrap_or(false);
    if follow && !l.kind.counted() {
        return Err(bad("follow_count", "only per-device and per-user lines follow a count"));
    }
    if l.device_class.is_some() && l.kind != LineKind::PerDevice {
        return Err(bad("device_class", "only per-device lines count a class of device"));
    }
    let block = l.kind == LineKind::BlockHours;
    for (name, set) in [("hours", hours.is_some()), ("overage_rate", overage_rate.is_some()), ("rollover", l.rollover.is_some())] {
        if set && !block {
            return Err(bad(name, "only a block of hours has this"));
        }
    }
    let unit_price = match (l.kind, unit_price) {
        (LineKind::TimeAndMaterials, Some(_)) => return Err(bad("unit_price", "time and materials is priced by each work type's rate")),
        (LineKind::TimeAndMaterials, None) => Decimal::ZERO,
        (_, None) => return Err(bad("unit_price", "is required")),
        (_, Some(p)) => p,
    };
    let quantity = match (l.kind, quantity) {
        (LineKind::TimeAndMaterials | LineKind::BlockHours, Some(_)) => return Err(bad("quantity", "this line has no quantity")),
        (LineKind::TimeAndMaterials | LineKind::BlockHours, None) => Decimal::ONE,
        (LineKind::Flat, q) => q.unwrap_or(Decimal::ONE),
        (_, Some(q)) => q,
        (_, None) if follow => Decimal::ZERO,
        (_, None) => return Err(bad("quantity", "is required unless the line follows the count")),
    };
    if block && hours.is_none_or(|h| h.is_zero()) {
        return Err(bad("hours", "a block of hours needs the hours it buys"));
    }
    Ok(Line {
        id: l.id,
        kind: l.kind,
        description,
        unit_price,
        quantity,
        follow_count: follow,
        device_class: l.device_class,
        hours,
        overage_rate: if block { Some(overage_rate.unwrap_or(Decimal::ZERO)) } else { None },
        rollover: l.rollover.unwrap_or(false),
        tax_rate: tax,
    })
}

/// The cycle a contract is billed on, from its stored name.
pub fn cycle(s: &str) -> Cycle {
    Cycle::parse(s).unwrap_or(Cycle::Monthly)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(v: serde_json::Value) -> LineInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn each_kind_takes_its_fields_and_refuses_the_others() {
        let ok = check_line(0, &line(serde_json::json!({"kind": "per_device", "description": "Servers", "unit_price": "75", "follow_count": true, "device_class": "server"}))).unwrap();
        assert_eq!((ok.quantity, ok.follow_count, ok.device_class), (Decimal::ZERO, true, Some(DeviceClass::Server)));
        let e = check_line(1, &line(serde_json::json!({"kind": "flat", "description": "Fee", "unit_price": "10", "follow_count": true})))
            .unwrap_err();
        assert_eq!(e.0, "lines[1].follow_count");
        let e = check_line(2, &line(serde_json::json!({"kind": "block_hours", "description": "Block", "unit_price": "900"}))).unwrap_err();
        assert_eq!(e.0, "lines[2].hours");
        let e =
            check_line(0, &line(serde_json::json!({"kind": "time_and_materials", "description": "T&M", "unit_price": "1"}))).unwrap_err();
        assert_eq!(e.0, "lines[0].unit_price");
        let e = check_line(0, &line(serde_json::json!({"kind": "per_user", "description": "Users", "unit_price": "12.5"}))).unwrap_err();
        assert_eq!(e.0, "lines[0].quantity");
        let q = check_line(0, &line(serde_json::json!({"kind": "per_user", "description": "Users", "unit_price": "12.5", "quantity": 12})))
            .unwrap();
        assert_eq!(q.quantity, Decimal::from(12));
        let number = serde_json::json!({"kind": "flat", "description": "Fee", "unit_price": 10});
        assert!(serde_json::from_value::<LineInput>(number).is_err(), "money is a string, never a binary float");
    }

    #[test]
    fn classes_derive_from_the_system() {
        assert_eq!(DeviceClass::derived("Windows Server 2022 Standard"), DeviceClass::Server);
        assert_eq!(DeviceClass::derived("Ubuntu 24.04 LTS"), DeviceClass::Server);
        assert_eq!(DeviceClass::derived("Windows 11 Pro"), DeviceClass::Workstation);
        assert_eq!(DeviceClass::derived("macOS 15"), DeviceClass::Workstation);
    }
}
