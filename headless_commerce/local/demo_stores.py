"""Demo stores for local mode: real cities' coordinates, a few per big city, and some where a
store locator is easy to get wrong (either side of the antimeridian, far north and south). The
gazetteer local geocoding answers from is built from the same cities and postcodes."""

from __future__ import annotations

from headless_commerce.runtime.location.local_provider import GazetteerEntry

# (store_id, name, line1, city, postal_code, country, lat, lon)
_STORES = (
    ("nyc-fifth", "Fifth Avenue", "350 5th Ave", "New York", "10118", "US", 40.7484, -73.9857),
    ("nyc-soho", "SoHo", "120 Spring St", "New York", "10012", "US", 40.7243, -74.0018),
    ("bos-back-bay", "Back Bay", "800 Boylston St", "Boston", "02199", "US", 42.3480, -71.0826),
    ("chi-loop", "The Loop", "111 N State St", "Chicago", "60602", "US", 41.8837, -87.6278),
    ("sf-union", "Union Square", "170 O'Farrell St", "San Francisco", "94102", "US", 37.7866, -122.4075),
    ("la-grove", "The Grove", "189 The Grove Dr", "Los Angeles", "90036", "US", 34.0722, -118.3576),
    ("sea-pike", "Pike Place", "1st Ave & Pike St", "Seattle", "98101", "US", 47.6097, -122.3422),
    ("anc-downtown", "Anchorage Downtown", "320 W 5th Ave", "Anchorage", "99501", "US", 61.2176, -149.8953),
    ("hnl-ala-moana", "Ala Moana", "1450 Ala Moana Blvd", "Honolulu", "96814", "US", 21.2911, -157.8436),
    ("yyz-eaton", "Eaton Centre", "220 Yonge St", "Toronto", "M5B 2H1", "CA", 43.6544, -79.3807),
    ("mex-reforma", "Reforma", "Paseo de la Reforma 222", "Mexico City", "06600", "MX", 19.4270, -99.1677),
    ("gru-paulista", "Paulista", "Av. Paulista 1230", "Sao Paulo", "01310-100", "BR", -23.5614, -46.6559),
    ("ush-centro", "Ushuaia Centro", "Av. San Martin 500", "Ushuaia", "V9410", "AR", -54.8069, -68.3073),
    ("lon-oxford", "Oxford Street", "400 Oxford St", "London", "W1A 1AB", "GB", 51.5145, -0.1527),
    ("lon-covent", "Covent Garden", "12 James St", "London", "WC2E 8BT", "GB", 51.5117, -0.1240),
    ("par-marais", "Le Marais", "35 Rue des Francs-Bourgeois", "Paris", "75004", "FR", 48.8575, 2.3600),
    ("par-opera", "Opera", "40 Bd Haussmann", "Paris", "75009", "FR", 48.8738, 2.3320),
    ("ber-mitte", "Mitte", "Alexanderplatz 1", "Berlin", "10178", "DE", 52.5219, 13.4132),
    ("ber-kudamm", "Kurfuerstendamm", "Kurfuerstendamm 21", "Berlin", "10719", "DE", 52.5031, 13.3307),
    ("mad-sol", "Puerta del Sol", "Puerta del Sol 1", "Madrid", "28013", "ES", 40.4169, -3.7035),
    ("rom-corso", "Via del Corso", "Via del Corso 100", "Rome", "00186", "IT", 41.9009, 12.4816),
    ("ams-kalverstraat", "Kalverstraat", "Kalverstraat 1", "Amsterdam", "1012 NX", "NL", 52.3702, 4.8920),
    ("sto-drottning", "Drottninggatan", "Drottninggatan 50", "Stockholm", "111 21", "SE", 59.3326, 18.0649),
    ("rey-laugavegur", "Laugavegur", "Laugavegur 20", "Reykjavik", "101", "IS", 64.1455, -21.9270),
    ("tos-storgata", "Tromso Storgata", "Storgata 80", "Tromso", "9008", "NO", 69.6492, 18.9553),
    ("lyr-sentrum", "Longyearbyen", "Lompensenteret", "Longyearbyen", "9170", "NO", 78.2232, 15.6469),
    ("cpt-waterfront", "V&A Waterfront", "19 Dock Rd", "Cape Town", "8001", "ZA", -33.9036, 18.4207),
    ("dxb-mall", "Dubai Mall", "Financial Centre Rd", "Dubai", "00000", "AE", 25.1972, 55.2796),
    ("sin-orchard", "Orchard Road", "290 Orchard Rd", "Singapore", "238859", "SG", 1.3048, 103.8318),
    ("tyo-ginza", "Ginza", "4-6-16 Ginza", "Tokyo", "104-0061", "JP", 35.6717, 139.7650),
    ("pkc-centre", "Petropavlovsk Centre", "Leninskaya 36", "Petropavlovsk-Kamchatsky", "683000", "RU",
     53.0452, 158.6483),
    ("syd-pitt", "Pitt Street", "188 Pitt St", "Sydney", "2000", "AU", -33.8700, 151.2083),
    ("mel-bourke", "Bourke Street", "260 Bourke St", "Melbourne", "3000", "AU", -37.8136, 144.9654),
    ("akl-queen", "Queen Street", "229 Queen St", "Auckland", "1010", "NZ", -36.8485, 174.7633),
    ("suv-victoria", "Suva Victoria Parade", "Victoria Parade", "Suva", "FJ-SUV", "FJ", -18.1416, 178.4419),
    ("tbu-nukualofa", "Nuku'alofa", "Taufa'ahau Rd", "Nuku'alofa", "TO-NUK", "TO", -21.1393, -175.2049),
    ("apw-apia", "Apia Beach Road", "Beach Rd", "Apia", "WS-APW", "WS", -13.8333, -171.7667),
)


def stores() -> list[dict]:
    return [{"store_id": s[0], "name": s[1], "line1": s[2], "city": s[3], "postal_code": s[4], "country": s[5],
             "lat": s[6], "lon": s[7]} for s in _STORES]


def gazetteer() -> list[GazetteerEntry]:
    """One entry per city (at its first store) with its stores' postcodes as aliases."""
    cities: dict[str, GazetteerEntry] = {}
    for _id, _name, _line, city, postcode, _country, lat, lon in _STORES:
        entry = cities.get(city) or GazetteerEntry(city, lat, lon)
        cities[city] = GazetteerEntry(entry.name, entry.lat, entry.lon, (*entry.aliases, postcode))
    return list(cities.values())
