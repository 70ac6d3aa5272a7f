"""The food bank's reference data: SKUs, warehouse locations, donors and partner agencies.

Built once per seed, independent of scale (a food bank does not get more warehouses when it gets
busier), with the shapes the contract and the sample files show: SKUs like `CAN-VEG-0412` with
Feeding America categories, storage types and case weights; `OAK-DRY-A01-03` locations in
Oakland and Hayward; donors by type; ~350 agencies whose names carry é and ñ.
SKU numbers 0001-7999 are the original catalogue, 8000-8999 are SKUs added during a run and
9000-9999 are never issued, which is where hand-keyed unknown SKUs come from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

WAREHOUSES = ("OAK", "HAY")
SALVAGE_SKU = "SAL-MIX-0001"  # the WMS's SKU for unsorted salvage (intake leaves sku NULL)

# (Feeding America category, SKU type code, storage type, typical case lbs, item groups (code, name))
CATEGORIES = [
    (
        "Vegetables (Canned & Frozen)",
        "CAN",
        "DRY",
        27,
        [("VEG", "Green Beans"), ("CRN", "Sweet Corn"), ("TOM", "Tomatoes")],
    ),
    ("Vegetables (Canned & Frozen)", "FRZ", "FRZ", 22, [("VEG", "Mixed Vegetables"), ("PEA", "Peas")]),
    ("Fruits (Canned & Frozen)", "CAN", "DRY", 30, [("FRT", "Peaches"), ("PRS", "Pears"), ("APS", "Applesauce")]),
    (
        "Produce",
        "PRD",
        "REF",
        38,
        [
            ("APL", "Apples"),
            ("ORG", "Oranges"),
            ("POT", "Potatoes"),
            ("ONI", "Onions"),
            ("CAR", "Carrots"),
            ("LET", "Lettuce"),
        ],
    ),
    ("Meat/Fish/Poultry", "FRZ", "FRZ", 30, [("CHK", "Chicken"), ("BEF", "Ground Beef"), ("FSH", "Tilapia")]),
    ("Dairy", "DAI", "REF", 32, [("MLK", "Milk"), ("CHS", "Cheese"), ("YOG", "Yogurt"), ("EGG", "Eggs")]),
    ("Protein (Non-Meat)", "DRY", "DRY", 24, [("PNB", "Peanut Butter"), ("BNS", "Dry Beans")]),
    ("Cereal", "DRY", "DRY", 14, [("CER", "Cereal"), ("OAT", "Oatmeal")]),
    ("Pasta", "DRY", "DRY", 20, [("PST", "Spaghetti"), ("MAC", "Macaroni")]),
    ("Rice", "DRY", "DRY", 25, [("RCE", "Rice")]),
    ("Bakery", "BAK", "DRY", 12, [("BRD", "Bread"), ("TRT", "Tortillas")]),
    ("Beverages", "BEV", "DRY", 28, [("WTR", "Water"), ("JCE", "Juice")]),
    ("Entrees", "CAN", "DRY", 26, [("SOU", "Soup"), ("CHL", "Chili")]),
    ("Snacks", "DRY", "DRY", 10, [("SNK", "Granola Bars"), ("CRK", "Crackers")]),
    ("Baby Food", "DRY", "DRY", 12, [("BBY", "Infant Formula")]),
    ("Non-Food", "NFD", "NF", 18, [("HYG", "Hygiene Kits"), ("DIA", "Diapers"), ("PAP", "Paper Towels")]),
]
PACKS = ["24/14.5 OZ", "12/32 OZ", "6/#10 CAN", "40 LB", "20 LB BAG", "4/1 GAL", "12 CT", "50 LB", "30/1 LB"]
VARIANTS = ["", "Low Sodium", "Organic", "Cut", "Whole", '"Family" Size', "Assorted, Mixed", "Store Brand"]
ZONE_OF_STORAGE = {"DRY": "DRY", "NF": "DRY", "REF": "COOLER", "FRZ": "FREEZER"}
SHELF_DAYS = {"DRY": 365, "NF": 0, "REF": 14, "FRZ": 180}

CITIES_OAK = ["Oakland", "Berkeley", "Alameda", "Emeryville", "Albany", "San Leandro", "Piedmont"]
CITIES_HAY = ["Hayward", "Fremont", "Union City", "Newark", "Pleasanton", "Livermore", "Dublin", "Castro Valley"]
AGENCY_TYPES = ["Pantry", "Soup Kitchen", "Shelter", "Senior", "Youth", "Direct Program"]
AGENCY_WORDS = [
    "Iglesia Santa María",
    "Niños Felices",
    "Café Comunidad",
    "San José Obrero",
    "Peña Family",
    "Corazón Abierto",
    "Nuestra Señora",
    "Good Shepherd",
    "Bay Area",
    "Eastbay",
    "St. Vincent's",
    "Hope",
    "La Clínica",
    "Hermanos Unidos",
    "Seniors, Inc.",
    "Résidence",
    "Alameda",
]
AGENCY_SUFFIX = {
    "Pantry": "Pantry",
    "Soup Kitchen": "Kitchen",
    "Shelter": "Shelter",
    "Senior": "Senior Center",
    "Youth": "Youth Program",
    "Direct Program": "Mobile Pantry",
}
DONOR_TYPES = [
    ("Retailer", 0.45, "DONATED"),
    ("Manufacturer", 0.15, "DONATED"),
    ("Grower", 0.15, "DONATED"),
    ("Food Drive", 0.18, "FOOD_DRIVE"),
    ("Vendor", 0.05, "PURCHASED"),
    ("Government", 0.02, "USDA"),
]
DONOR_NAMES = {
    "Retailer": ["Safeway #{n}", "Grocery Outlet {c}", "Trader Joe's #{n}", "Lucky #{n}", "Costco {c}"],
    "Manufacturer": ["Pacific Foods Co. {n}", "Bay Bakers, LLC", "Golden State Canning {n}"],
    "Grower": ["{c} Family Farms", "Sunol Orchards {n}", "Central Valley Produce {n}"],
    "Food Drive": ["{c} High School Drive", "Rotary Club of {c}", "St. Mary's Parish {n}"],
    "Vendor": ["Sysco {c}", "US Foods #{n}"],
    "Government": ["USDA TEFAP via CDSS", "USDA CSFP via CDSS"],
}


@dataclass
class Reference:
    items: pd.DataFrame  # wms.items columns + zone
    locations: pd.DataFrame  # wms.locations columns
    donors: pd.DataFrame  # intake.donors columns + program
    agencies: pd.DataFrame  # ordering.agencies columns + warehouse_code
    home: pd.DataFrame  # (sku, warehouse_code) -> home storage location
    pick: pd.DataFrame  # (sku, warehouse_code) -> pick face, where replenishment moves stock to
    commodities: pd.DataFrame  # USDA material code -> wms_sku, feed_sku (None when unmapped)


def _items(rng: np.random.Generator, n_items: int) -> pd.DataFrame:
    groups = [(cat, f"{typ}-{code}", st, lbs, name) for cat, typ, st, lbs, grp in CATEGORIES for code, name in grp]
    per_group = rng.multinomial(n_items - 1, np.full(len(groups), 1 / len(groups)))
    rows = []
    for (cat, prefix, storage, lbs, name), k in zip(groups, per_group):
        numbers = np.sort(rng.choice(np.arange(1, 8000), size=max(k, 1), replace=False))
        for num in numbers:
            variant, pack = VARIANTS[rng.integers(len(VARIANTS))], PACKS[rng.integers(len(PACKS))]
            weight = round(float(np.clip(rng.lognormal(np.log(lbs), 0.35), 2, 60)), 2)
            rows.append((f"{prefix}-{num:04d}", " ".join(p for p in (name, variant, pack) if p), cat, storage, weight))
    rows.append((SALVAGE_SKU, "Unsorted salvage, mixed", "Mixed/Assorted", "DRY", 25.0))
    items = pd.DataFrame(rows, columns=["sku", "description", "fa_category", "storage_type", "case_weight_lbs"])
    items = items.drop_duplicates("sku").reset_index(drop=True)
    items["is_active"] = rng.random(len(items)) > 0.02
    items["zone"] = items["storage_type"].map(ZONE_OF_STORAGE)
    return items


def _locations() -> pd.DataFrame:
    rows = []
    for wh, aisles in (("OAK", 20), ("HAY", 10)):
        rows += [(f"{wh}-DRY-A{a:02d}-{b:02d}", wh, "DRY") for a in range(1, aisles + 1) for b in range(1, 11)]
        rows += [(f"{wh}-COOLER-{i:02d}", wh, "COOLER") for i in range(1, aisles // 2 + 3)]
        rows += [(f"{wh}-FREEZER-{i:02d}", wh, "FREEZER") for i in range(1, aisles // 2 + 1)]
        rows += [(f"{wh}-DOCK-{i:02d}", wh, "DOCK") for i in range(1, 7 if wh == "OAK" else 4)]
    loc = pd.DataFrame(rows, columns=["location_id", "warehouse_code", "zone"])
    loc["is_active"] = True
    return loc


def _donors(rng: np.random.Generator, n: int) -> pd.DataFrame:
    kinds = rng.choice(len(DONOR_TYPES), size=n, p=[p for _, p, _ in DONOR_TYPES])
    cities = CITIES_OAK + CITIES_HAY
    rows = []
    for i, k in enumerate(kinds, start=1):
        dtype, _, program = DONOR_TYPES[k]
        names = DONOR_NAMES[dtype]
        city = cities[rng.integers(len(cities))]
        name = names[rng.integers(len(names))].format(n=rng.integers(100, 4000), c=city)
        if program == "USDA":
            program = "CSFP" if "CSFP" in name else "TEFAP"
        rows.append(
            (
                f"DNR-{i:04d}",
                name,
                dtype,
                f"donor{i}@example.org" if rng.random() < 0.7 else None,
                f"510-555-{rng.integers(0, 10000):04d}" if rng.random() < 0.6 else None,
                city,
                program,
            )
        )
    return pd.DataFrame(
        rows, columns=["donor_id", "donor_name", "donor_type", "contact_email", "phone", "city", "program"]
    )


def _agencies(rng: np.random.Generator, n: int) -> pd.DataFrame:
    rows = []
    for i in range(1, n + 1):
        atype = AGENCY_TYPES[rng.integers(len(AGENCY_TYPES))]
        south = rng.random() < 0.35
        city = (CITIES_HAY if south else CITIES_OAK)[rng.integers(7)]
        word = AGENCY_WORDS[rng.integers(len(AGENCY_WORDS))]
        name = f"{word} {AGENCY_SUFFIX[atype]}" if rng.random() < 0.6 else f"{word} {city} {AGENCY_SUFFIX[atype]}"
        county = "Contra Costa" if rng.random() < 0.05 else "Alameda"
        status = rng.choice(["ACTIVE", "SUSPENDED", "CLOSED"], p=[0.94, 0.04, 0.02])
        rows.append((f"AG-{i:04d}", name, atype, county, str(status), "HAY" if south else "OAK"))
    return pd.DataFrame(rows, columns=["agency_id", "agency_name", "agency_type", "county", "status", "warehouse_code"])


def _homes(rng: np.random.Generator, items: pd.DataFrame, locations: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for wh in WAREHOUSES:
        for zone, group in items.groupby("zone"):
            choices = locations.loc[
                (locations.warehouse_code == wh) & (locations.zone == zone), "location_id"
            ].to_numpy()
            parts.append(
                pd.DataFrame(
                    {
                        "sku": group["sku"].to_numpy(),
                        "warehouse_code": wh,
                        "location_id": choices[rng.integers(len(choices), size=len(group))],
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def _commodities(rng: np.random.Generator, items: pd.DataFrame) -> pd.DataFrame:
    food = items.loc[(items.storage_type != "NF") & (items.sku != SALVAGE_SKU)]
    picks = food.sample(n=24, random_state=int(rng.integers(1 << 31)))
    codes = np.sort(rng.choice(np.arange(100000, 111000), size=len(picks), replace=False))
    desc = picks["description"].str.upper().str.replace(r'[",|]', "", regex=True)
    mapped = rng.random(len(picks)) > 0.2  # the state's material codes are not all mapped to SKUs
    return pd.DataFrame(
        {
            "usda_material_code": codes.astype(str),
            "description": desc.to_numpy(),
            "wms_sku": picks["sku"].to_numpy(),
            "feed_sku": np.where(mapped, picks["sku"].to_numpy(), None),
        }
    )


def build_reference(seed: int, n_items: int = 3000, n_agencies: int = 350, n_donors: int = 1500) -> Reference:
    rng = np.random.default_rng([seed, 0xF00D])
    items = _items(rng, n_items)
    locations = _locations()
    home, pick = _homes(rng, items, locations), _homes(rng, items, locations)
    return Reference(
        items=items,
        locations=locations,
        donors=_donors(rng, n_donors),
        agencies=_agencies(rng, n_agencies),
        home=home,
        pick=pick,
        commodities=_commodities(rng, items),
    )
