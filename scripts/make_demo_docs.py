"""Write the demo corpus's Word, PowerPoint, Excel and PDF files into eval/demo/docs.

    python scripts/make_demo_docs.py [--out eval/demo/docs]

The files are committed; edit their content here and rerun. The output is byte-for-byte the same on
every run (see scripts/docgen.py), and tests/rag/test_demo_docs.py fails when the committed files
and this script disagree. Every fact here is new to the handbook: each fact is stated in one place.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from docgen import Page, Slide, write_docx, write_pdf, write_pptx, write_xlsx

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "eval" / "demo" / "docs"

ALLOWANCES = [
    ["Country", "Daily field allowance", "Harvest supplement"],
    ["Portugal", "20 euros", "10 euros"],
    ["Spain", "24 euros", "10 euros"],
    ["France", "32 euros", "15 euros"],
    ["Italy", "28 euros", "12 euros"],
    ["Germany", "34 euros", "15 euros"],
    ["Austria", "30 euros", "12 euros"],
    ["Switzerland", "48 euros", "20 euros"],
    ["United States", "42 euros", "18 euros"],
    ["Chile", "26 euros", "12 euros"],
    ["Argentina", "22 euros", "10 euros"],
    ["South Africa", "25 euros", "11 euros"],
    ["Australia", "38 euros", "16 euros"],
    ["New Zealand", "36 euros", "14 euros"],
]

PARTS = [
    ["Part number", "Item", "Price (euros)"],
    ["KL-2001", "Replacement solar panel", 59],
    ["KL-2002", "Station battery pack", 45],
    ["KL-2003", "Leaf wetness sensor", 38],
    ["KL-2004", "Air temperature and humidity sensor", 52],
    ["KL-2005", "Soil probe, 30 cm", 64],
    ["KL-2006", "Soil probe, 60 cm", 79],
    ["KL-2007", "LoRaWAN antenna", 24],
    ["KL-2008", "Mounting pole, 2 m", 31],
    ["KL-2009", "Pole clamp set", 12],
    ["KL-2010", "Station housing lid", 27],
    ["KL-2011", "Radiation shield", 33],
    ["KL-2012", "Rain gauge add-on", 69],
    ["KL-2013", "Wind sensor add-on", 119],
    ["KL-2014", "Gateway mounting kit", 42],
    ["KL-2015", "Gateway backup battery, 12 V", 85],
    ["KL-2016", "Housing seal kit", 9],
    ["KL-2017", "Bird spikes", 7],
]

SERVICES = [
    ["Service", "Price (euros)", "Charged"],
    ["On-site installation", 95, "per station"],
    ["Station recalibration", 55, "per station"],
    ["Warranty extension", 39, "per station"],
    ["Grower training day", 480, "per day"],
    ["Express shipping of parts", 18, "per order"],
]

TERMS = [
    ["Terms"],
    ["Prices exclude VAT."],
    ["Parts orders above 300 euros ship free of charge within the EU."],
    ["Parts are shipped from the warehouse in Porto."],
]

REPAIR_TIMES = [
    ["Region", "Repair centre", "Turnaround"],
    ["Portugal and Spain", "Porto", "5 working days"],
    ["Rest of Europe", "Porto", "7 working days"],
    ["Australia and New Zealand", "Christchurch", "6 working days"],
    ["South Africa", "Porto", "10 working days"],
    ["The Americas", "Porto", "12 working days"],
]


def allowances(path: Path) -> None:
    write_docx(path, [
        ("title", "Field allowances"),
        ("h1", "Who receives it"),
        ("p", ("Employees who spend a working day on a customer vineyard, for example to install, service or "
               "collect stations, receive a daily field allowance. It is paid on top of the meal allowance and "
               "covers the extra costs of working outdoors, such as rain gear, sun protection and drinking water.")),
        ("p", ("Claim the field allowance in Ledgerly together with the other expenses of the trip, and name "
               "the vineyard you worked on.")),
        ("h1", "Rates by country"),
        ("p", ("The daily rate depends on the country of the vineyard. During the harvest, a harvest supplement "
               "is added to it.")),
        ("table", ALLOWANCES),
        ("h1", "Harvest season"),
        ("p", ("The harvest runs from August to October in the northern hemisphere and from February to April "
               "in the southern hemisphere. Field days during the harvest must be agreed with the grower a week "
               "in advance, because the pickers have priority in the rows.")),
    ], title="Field allowances")


def roadmap(path: Path) -> None:
    write_pptx(path, [
        Slide("Product roadmap 2026", ["What the product team plans to ship in 2026",
                                       "Dates are targets for planning, not promises to customers"]),
        Slide("Vinewatch Frost", ["A frost warning add-on for the Vinewatch station",
                                  "Measures air temperature 50 centimetres above the ground, where buds freeze first",
                                  "Warns growers when the temperature falls below 1 degree Celsius"],
              notes="Frost alerts reach growers by SMS as well as in Canopy: on a frost night the warning has "
                    "to wake people up."),
        Slide("Release timeline", table=[["Milestone", "Quarter"],
                                         ["Canopy app for Android and iOS", "Q1"],
                                         ["Irrigation advice in Canopy", "Q2"],
                                         ["Vinewatch Frost", "Q3"],
                                         ["Gateway with satellite uplink", "Q4"]],
              notes="The satellite gateway is meant for vineyards without mobile coverage."),
        Slide("Research", ["A powdery mildew risk model for Canopy, next to the downy mildew warning",
                           "Trained on five seasons of readings from 300 vineyards"],
              notes="Results of the powdery mildew model are shared with customers only after the agronomy "
                    "team has reviewed them."),
    ], title="Product roadmap 2026")


def price_list(path: Path) -> None:
    write_xlsx(path, {"Spare parts": PARTS, "Services": SERVICES, "Terms": TERMS}, title="Price list 2026")


def warranty(path: Path) -> None:
    write_pdf(path, [
        Page("Warranty claims", [
            "This guide explains how warranty claims and repairs work for Vinewatch devices.",
            "",
            "Every claim needs the serial number of the device. On a Vinewatch station",
            "the serial number is printed on a label inside the station housing.",
            "",
            "An approved claim gets a return number starting with RMA. Write the return number",
            "on the outside of the parcel. Kestrel Labs pays the return shipping of approved claims.",
        ]),
        Page("Repair times", [
            "Warranty repairs are done in two repair centres. The turnaround counts working days",
            "from the day the device arrives until the day it is shipped back.",
            "",
            *REPAIR_TIMES,
        ]),
        Page("Extended warranty and recycling", [
            "The warranty of a station can be extended by two years, within 90 days of delivery.",
            "Growers buy the extension in Canopy, on the page of the station.",
            "",
            "Stations at the end of their life can be sent back free of charge. Their lithium",
            "batteries are recycled by our partner EcoCell in Maia.",
        ]),
        Page("What the warranty does not cover", [
            "The warranty does not cover damage caused by lightning, livestock or vineyard machinery.",
            "A device opened by anyone other than Kestrel Labs staff or a certified installer",
            "loses its warranty.",
        ]),
    ], title="Warranty and repairs")


FILES = {"16-allowances.docx": allowances, "17-roadmap.pptx": roadmap, "18-price-list.xlsx": price_list,
         "19-warranty.pdf": warranty}


def write_all(out: Path) -> list[Path]:
    """Write every generated document into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    for name, write in FILES.items():
        write(out / name)
    return [out / name for name in FILES]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DOCS, help="folder to write into [default: eval/demo/docs]")
    args = ap.parse_args()
    for path in write_all(args.out):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
