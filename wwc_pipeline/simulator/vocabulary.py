"""Word lists the generator draws from, and how each platform writes cadences and licences.

Kept apart from the generator so that the shapes (what a real portal writes) are easy to read
and to compare with the recorded catalogs in ../shared/real-portals.
"""

from __future__ import annotations

# category -> (subjects used in titles, the department that usually publishes them)
CATEGORIES: dict[str, tuple[list[str], list[str]]] = {
    "Public Safety": (
        ["Police Stations", "Fire Inspections", "911 Calls for Service", "Speed Camera Locations", "Arrests"],
        ["Police Department", "Fire Department"],
    ),
    "Transportation": (
        ["Street Closures", "Parking Citations", "Bike Counts", "Pothole Repairs", "Traffic Counts"],
        ["Department of Transportation", "Public Works"],
    ),
    "Finance": (
        ["Debt Service Schedule", "Bond Ratings", "Revenue by Source", "Property Tax Bills"],
        ["Finance Department", "Office of Budget and Management"],
    ),
    "Health": (
        ["Flu Shot Clinics", "Vaccination Sites", "Overdose Reports", "Air Quality Readings"],
        ["Department of Public Health"],
    ),
    "Housing": (
        ["Vacant Lots", "Rental Registrations", "Affordable Housing Units", "Eviction Filings"],
        ["Planning and Development", "Housing Authority"],
    ),
    "City Government": (
        ["Board Appointments", "Council Votes", "Public Meetings", "Public Notices"],
        ["Office of the City Clerk", "Human Resources", "Information Technology"],
    ),
    "Environment": (
        ["Tree Inventory", "Recycling Tonnage", "Water Quality Tests", "Energy Benchmarking"],
        ["Water Utility", "Office of Sustainability"],
    ),
    "Recreation": (
        ["Park Facilities", "Library Branches", "Recreation Programs", "Pool Attendance"],
        ["Parks and Recreation", "Public Library"],
    ),
}

TITLE_SUFFIXES = ["", "", " - Current", " - Historical", " 2019", " 2021", " 2023", " by District", " Map"]

TAG_WORDS = [
    "safety", "transparency", "budget", "permits", "311", "transportation", "health", "housing",
    "environment", "parks", "gis", "performance", "inspections", "finance", "neighborhoods",
]  # fmt: skip

CONTACT_NAMES = ["Open Data Team", "GIS Team", "Data Coordinator", "Records Office", "Analytics Unit"]

DESCRIPTION_OPENINGS = [
    "This dataset lists {subject_lower} recorded by the {department}.",
    "{subject} published by the {department}, one row per record.",
    "Records of {subject_lower} in the City of {city}, maintained by the {department}.",
]
DESCRIPTION_ENDINGS = [
    " Locations are generalized to the block level.",
    " Records are added as they are reported; earlier records may be corrected.",
    " See the data dictionary for the meaning of each column.",
    "",
]

# cadence key -> (period in days, weight); None period: no cadence / not recognized
CADENCES: dict[str, tuple[int | None, float]] = {
    "daily": (1, 0.20),
    "weekly": (7, 0.15),
    "monthly": (31, 0.25),
    "quarterly": (92, 0.10),
    "annually": (366, 0.15),
    "as_needed": (None, 0.10),
    "varies": (None, 0.05),  # not recognized by METRICS.md's frequency rules
}

# How each platform writes a cadence (METRICS.md "frequency" column; PLATFORMS.md).
CADENCE_TEXT: dict[str, dict[str, str]] = {
    # Socrata Discovery `domain_metadata` Metadata_Frequency, views custom_fields Metadata/Frequency
    "socrata": {
        "daily": "Data are updated daily",
        "weekly": "Data are updated weekly",
        "monthly": "Data are updated monthly",
        "quarterly": "Data are updated quarterly",
        "annually": "Data are updated annually",
        "as_needed": "Data are updated as needed",
        "varies": "Varies",
    },
    # CKAN extras "Update Frequency" (OpenDataPhilly style)
    "ckan": {
        "daily": "Daily",
        "weekly": "Weekly",
        "monthly": "Monthly",
        "quarterly": "Quarterly",
        "annually": "Annually",
        "as_needed": "As Needed",
        "varies": "Varies",
    },
    # DCAT-US accrualPeriodicity (ISO 8601 repeating durations, or `irregular`)
    "dcat": {
        "daily": "R/P1D",
        "weekly": "R/P1W",
        "monthly": "R/P1M",
        "quarterly": "R/P3M",
        "annually": "R/P1Y",
        "as_needed": "irregular",
        "varies": "Varies",
    },
    # OpenDataSoft metas.dcat.accrualperiodicity (vocabulary UNCONFIRMED: English words)
    "opendatasoft": {
        "daily": "daily",
        "weekly": "weekly",
        "monthly": "monthly",
        "quarterly": "quarterly",
        "annually": "annual",
        "as_needed": "irregular",
        "varies": "varies",
    },
}

# licence key -> weight and per-platform representation
LICENCE_WEIGHTS = {"cc0": 0.3, "cc_by": 0.2, "public_domain": 0.2, "odbl": 0.1, "terms": 0.2}
LICENCES: dict[str, dict[str, object]] = {
    "cc0": {
        "socrata": "Creative Commons 1.0 Universal (Public Domain Dedication)",
        "socrata_id": "CC0_10",
        "ckan": ("cc-zero", "Creative Commons CCZero", True),
        "dcat": "https://creativecommons.org/publicdomain/zero/1.0/",
        "opendatasoft": "CC0 1.0",
    },
    "cc_by": {
        "socrata": "Creative Commons Attribution 4.0 International",
        "socrata_id": "CC_30_BY",
        "ckan": ("cc-by", "Creative Commons Attribution", True),
        "dcat": "https://creativecommons.org/licenses/by/4.0/",
        "opendatasoft": "CC BY 4.0",
    },
    "public_domain": {
        "socrata": "Public Domain",
        "socrata_id": "PUBLIC_DOMAIN",
        "ckan": ("other-pd", "Other (Public Domain)", True),
        "dcat": "http://www.usa.gov/publicdomain/label/1.0/",
        "opendatasoft": "Public Domain",
    },
    "odbl": {
        "socrata": "Open Database License",
        "socrata_id": "ODBL",
        "ckan": ("odc-odbl", "Open Data Commons Open Database License (ODbL)", True),
        "dcat": "http://opendatacommons.org/licenses/odbl/1.0/",
        "opendatasoft": "Open Database License (ODbL)",
    },
    "terms": {
        "socrata": "See Terms of Use",
        "socrata_id": None,
        "ckan": ("other-city", "Other (City of {city})", False),
        "dcat": "{base}/terms-of-use",
        "opendatasoft": "Terms of use of the City of {city}",
    },
}

# format key -> (format text, media type, distribution title, file extension)
FORMATS: dict[str, tuple[str, str, str, str]] = {
    "csv": ("CSV", "text/csv", "CSV", "csv"),
    "json": ("JSON", "application/json", "JSON", "json"),
    "xlsx": (
        "XLSX",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel",
        "xlsx",
    ),
    "geojson": ("GeoJSON", "application/vnd.geo+json", "GeoJSON", "geojson"),
    "kml": ("KML", "application/vnd.google-earth.kml+xml", "KML", "kml"),
    "shapefile": ("ZIP", "application/zip", "Shapefile", "zip"),
    "esri": ("Esri REST", "application/json", "ArcGIS GeoService", "featureserver"),
    "pdf": ("PDF", "application/pdf", "PDF", "pdf"),
    "html": ("Web Page", "text/html", "Web Page", "html"),
}
FORMAT_SETS: list[tuple[list[str], float]] = [
    (["csv", "json"], 0.45),
    (["csv", "json", "xlsx"], 0.15),
    (["csv", "geojson", "kml", "shapefile", "esri"], 0.25),
    (["xlsx"], 0.08),  # machine-readable, not open
    (["pdf"], 0.07),  # neither
]

# column templates: (name, field name, Socrata datatype, description, value kind)
BASE_COLUMNS = [
    ("Record ID", "record_id", "number", "Unique identifier of the record", "row_id"),
    ("Report Date", "report_date", "calendar_date", "Date the record was reported", "date"),
]
EXTRA_COLUMNS = [
    ("Status", "status", "text", "Current status of the record", "status"),
    ("District", "district", "text", "Council district where the record is located", "district"),
    ("Amount", "amount", "number", "Amount in US dollars", "amount"),
    ("Address", "address", "text", "Street address, generalized to the block", "address"),
    ("Type", "type", "text", "Type of record", "type"),
    ("Count", "count", "number", "Number of occurrences", "count"),
    ("Latitude", "latitude", "number", "Latitude (WGS84)", "latitude"),
    ("Longitude", "longitude", "number", "Longitude (WGS84)", "longitude"),
    ("Closed", "closed", "checkbox", "Whether the record is closed", "bool"),
    ("Closed Date", "closed_date", "calendar_date", "Date the record was closed", "date"),
]
SPECIAL_COLUMNS: dict[str, list[tuple[str, str, str, str, str]]] = {
    "inventory": [
        ("Dataset Name", "dataset_name", "text", "Title of the dataset", "inv_title"),
        ("Department", "department", "text", "Department that owns the dataset", "inv_department"),
        ("Update Frequency", "update_frequency", "text", "How often it is updated", "inv_frequency"),
        ("Last Updated", "last_updated", "calendar_date", "Date of the last data update", "inv_updated"),
        ("Public", "public", "checkbox", "Whether it is published on the portal", "inv_public"),
    ],
    "performance": [
        ("Measure", "measure", "text", "Name of the performance measure", "measure"),
        ("Department", "department", "text", "Department accountable for the measure", "department"),
        ("Target", "target", "number", "Target value for the period", "count"),
        ("Actual", "actual", "number", "Actual value for the period", "count"),
        ("Period End", "period_end", "calendar_date", "Last day of the reporting period", "date"),
    ],
    "contracts": [
        ("Contract Number", "contract_number", "text", "Contract identifier", "contract_no"),
        ("Vendor", "vendor", "text", "Vendor awarded the contract", "vendor"),
        ("Department", "department", "text", "Department that manages the contract", "department"),
        ("Amount", "amount", "number", "Award amount in US dollars", "amount"),
        ("Start Date", "start_date", "calendar_date", "Contract start date", "date"),
        ("End Date", "end_date", "calendar_date", "Contract end date", "date"),
    ],
}
SPECIAL_TITLES = {
    "inventory": (
        "Dataset Inventory",
        "City Government",
        "Information Technology",
        ["inventory", "open data"],
    ),
    "performance": (
        "Performance Metrics",
        "City Government",
        "Office of Budget and Management",
        ["performance", "kpi", "goals"],
    ),
    "contracts": ("Contracts", "Finance", "Procurement Services", ["procurement", "contracts", "vendors"]),
}
POLICY_TITLE = "Open Data Policy"

# Key datasets (config/key_datasets.yaml type ids): a catalog publishes the ones its plan names.
# The generic subjects above match no key type, so the demo cities differ in what they publish.
# key type -> (title, category, department, tags, extra columns from KEY_COLUMNS)
KEY_COLUMNS: dict[str, tuple[str, str, str, str, str]] = {
    "ward": ("Ward", "ward", "text", "City council ward of the location", "district"),
    "council_district": ("Council District", "council_district", "text", "Council district", "district"),
    "census_tract": ("Census Tract", "census_tract", "text", "2020 census tract", "district"),
    "zip": ("ZIP Code", "zip_code", "text", "ZIP code of the location", "district"),
    "neighborhood": ("Neighborhood", "neighborhood", "text", "Neighborhood of the location", "type"),
    "age_group": ("Age Group", "age_group", "text", "Age group of the person", "type"),
    "sex": ("Sex", "sex", "text", "Sex of the person", "type"),
    "race": ("Race", "race", "text", "Race or ethnicity of the person", "type"),
    "amount": ("Amount", "amount", "number", "Amount in US dollars", "amount"),
    "status": ("Status", "status", "text", "Current status of the record", "status"),
    "vendor": ("Vendor", "vendor", "text", "Vendor paid", "vendor"),
    "type": ("Type", "type", "text", "Type of record", "type"),
}
KEY_DATASETS: dict[str, tuple[str, str, str, list[str], list[str]]] = {
    "budget": (
        "Adopted Budget",
        "Finance",
        "Office of Budget and Management",
        ["budget"],
        ["amount", "type"],
    ),
    "spending": ("Vendor Payments", "Finance", "Finance Department", ["finance"], ["vendor", "amount"]),
    "procurement_contracts": (
        "Contract Awards",
        "Finance",
        "Procurement Services",
        ["procurement"],
        ["vendor", "amount"],
    ),
    "employee_compensation": (
        "Employee Salaries",
        "City Government",
        "Human Resources",
        ["payroll"],
        ["amount", "sex"],
    ),
    "crime": (
        "Crime Incidents",
        "Public Safety",
        "Police Department",
        ["safety"],
        ["type", "ward", "zip", "age_group", "sex", "race"],
    ),
    "service_requests": (
        "311 Service Requests",
        "City Government",
        "Information Technology",
        ["311"],
        ["type", "status", "council_district", "zip"],
    ),
    "construction_permits": (
        "Building Permits",
        "Housing",
        "Planning and Development",
        ["permits"],
        ["type", "amount", "census_tract"],
    ),
    "code_violations": (
        "Code Violations",
        "Housing",
        "Planning and Development",
        ["housing"],
        ["type", "status", "ward"],
    ),
    "business_listings": (
        "Business Licenses",
        "Finance",
        "Finance Department",
        ["business"],
        ["type", "zip", "neighborhood"],
    ),
    "restaurant_inspections": (
        "Restaurant Inspections",
        "Health",
        "Department of Public Health",
        ["inspections"],
        ["type", "status", "zip"],
    ),
    "zoning": ("Zoning Districts", "Housing", "Planning and Development", ["gis"], ["type"]),
    "parcels": ("Property Parcels", "Housing", "Finance Department", ["gis"], ["amount", "census_tract"]),
    "transit": (
        "Bus Stops",
        "Transportation",
        "Department of Transportation",
        ["transit"],
        ["type", "neighborhood"],
    ),
    "lobbying": (
        "Lobbyist Registrations",
        "City Government",
        "Office of the City Clerk",
        ["ethics"],
        ["type"],
    ),
    "campaign_finance": (
        "Campaign Contributions",
        "City Government",
        "Office of the City Clerk",
        ["elections"],
        ["amount"],
    ),
    "asset_disclosure": (
        "Statements of Economic Interests",
        "City Government",
        "Office of the City Clerk",
        ["ethics"],
        ["type"],
    ),
    "public_buildings": (
        "City Facilities",
        "City Government",
        "Public Works",
        ["facilities"],
        ["type", "council_district"],
    ),
    "traffic_crashes": (
        "Traffic Crashes",
        "Transportation",
        "Department of Transportation",
        ["safety"],
        ["type", "ward", "age_group"],
    ),
}
# Titles that read like key datasets and must match none (the performance one: performance only).
LOOK_ALIKES: list[tuple[str, str, str]] = [
    ("Crime Codes", "Public Safety", "Police Department"),
    (
        "Performance Metrics - Building Permit Processing",
        "City Government",
        "Office of Budget and Management",
    ),
    ("FOIA Request Log - Procurement", "City Government", "Office of the City Clerk"),
    ("Violent Crime Rate per 1,000 Residents", "Public Safety", "Police Department"),
    ("Parking Violations", "Transportation", "Department of Transportation"),
    ("Evacuation Routes", "Public Safety", "Fire Department"),
    ("Zoning Board of Appeals Hearings", "Housing", "Planning and Development"),
    ("Budget Office Staff Directory", "Finance", "Office of Budget and Management"),
    ("Street Construction Permits", "Transportation", "Department of Transportation"),
]
DEFAULT_KEY_DATASETS = (
    "budget",
    "crime",
    "service_requests",
    "construction_permits",
    "restaurant_inspections",
)

STATUSES = ["Open", "Closed", "In Progress", "Pending"]
TYPES = ["Type A", "Type B", "Type C", "Other"]
STREETS = ["Main St", "Oak Ave", "Evergreen Ter", "Elm St", "2nd Ave", "Lake Dr", "Market St"]
VENDORS = ["Acme Corp", "Globex LLC", "Initech", "Umbrella Services", "Stark Industries"]
MEASURES = ["Pothole response time", "Permit processing days", "Library visits", "911 answer time"]
