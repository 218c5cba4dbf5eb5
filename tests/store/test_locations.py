"""Location identity: the rules as a spec table, and linking offers to locations in a real store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import func, select, text

from review.actions import review_offer, split_offer
from review.fields import FIELDS
from store.db import alembic_config, make_engine, migrate
from store.messages import store_raw
from store.offers import find_location, link_location, location_states, lookup_query, replace_offers
from store.schema import Location, Message, OfferRow
from vng_ingest.locations import Identity, address_key, best_match, identity, name_core, name_key, same_location
from vng_ingest.models import Contact, Offer, RawMessage

SENT = datetime(2022, 3, 3, 9, 30, tzinfo=timezone.utc)
HERE, THERE = "GM9991", "GM9992"


# --- the rules ------------------------------------------------------------------------------------

def side(name, address=None, postcode=None, municipality=HERE) -> Identity:
    return identity(municipality, name, address, postcode)


# (a, b, same location?, why): a is the earlier offer, b the later one.
SPEC = [
    (side("Sporthal 1", "Sportlaan 1"), side("Sporthal 2", "Parkweg 7"), False,
     "different street addresses, whatever the names"),
    (side("Sporthal De Vliet", "Vlietweg 3", "1234 AB"), side("Sporthal De Vliet", "Vlietweg 5", "1234 AB"), False,
     "same postcode and name, other house number"),
    (side("Sporthal", "Vlietweg 3", "1234 AB"), side("Gymzaal", "Vlietweg 3"), True,
     "same street and house number, other words for the building"),
    (side("Kantoor Noord", "Dorpsstraat 3", "1234 AB"), side("Kantoor Noord", "Dorpsstraat 3", "5678 CD"), False,
     "different postcodes: the same street name in two villages"),
    (side("Dorpshuis", "Dorpsstraat 4", "1234 AB"), side("Dorpshuis", "Dorpstraat 4", "1234 AB"), True,
     "postcode and house number agree; the street is misspelt"),
    (side("Dorpshuis", "Brink N.Z. 4"), side("Dorpshuis", "Brink NZ 4"), True, "punctuation in the street"),
    (side("Woning", "Kerkstraat 7a"), side("Woning", "Kerkstraat 7 A"), True, "house number addition written apart"),
    (side("Woning", "Kerkstraat 7a"), side("Woning", "Kerkstraat 7b"), False, "other house number addition"),
    (side("Hotel Zuid", "Stationsweg 1", municipality=HERE), side("Hotel Zuid", "Stationsweg 1", municipality=THERE),
     False, "the same street address in another municipality"),
    (side("Hotel Zuid", "Stationsweg 1", "1234 AB", HERE), side("Hotel", "Stationsweg 1", "1234 AB", THERE), True,
     "postcode and house number are national, even when one municipality is wrong"),
    (side("Hal", "Sportlaan 1, 1234 AB Dorp"), side("Hal", "Sportlaan 1", "5678 CD"), False,
     "a postcode written in the address counts"),
    # one side without an address: an update or withdrawal naming only the location
    (side("voormalige basisschool De Linde", "Lindelaan 2", "1234 AB"), side("Basisschool De Linde"), True,
     "name only, equal once 'voormalige' and articles are left out"),
    (side("Sporthal De Vliet", "Vlietweg 3"), side("De Vliet"), True, "the bare proper name of the building"),
    (side("De Vliet"), side("Sporthal De Vliet", "Vlietweg 3"), True, "the bare name first, the full one later"),
    (side("Sporthal De Vliet", "Vlietweg 3"), side("Basisschool De Vliet"), False,
     "two buildings with the same proper name"),
    (side("Sporthal 1", "Sportlaan 1"), side("Sporthal 2"), False, "near-identical names with another number"),
    (side("Sporthal 1"), side("Sporthal 2"), False, "near-identical names with another number, no addresses"),
    (side("Sporthal 2"), side("2"), False, "a bare number is no proper name"),
    (side("Sporthal"), side("Sporthal De Vliet"), False, "a building word alone names no building"),
    (side("Klooster Zonnehof"), side("Klooster Zonnehoven"), False, "a near-identical spelling is not guessed"),
    (side("Sporthal De Vliet", "Vlietweg 3"), side("Sporthal De Vliet", "Vlietweg"), True,
     "a street without a house number is no address: the names decide"),
    (side("Het Anker", postcode="1234 AB"), side("Het Anker", postcode="5678 CD"), False,
     "different postcodes, same name"),
    (side("Het Anker", postcode="1234 AB"), side("Het Anker", "Ankerweg 1", "1234 AB"), True,
     "the same postcode and name, one side with a street address"),
    (side("Sporthal De Vliet", municipality=HERE), side("Sporthal De Vliet", municipality=THERE), False,
     "the same name in another municipality"),
    (side("Vakantiepark", municipality=None), side("Vakantiepark", municipality=None), False,
     "no municipality: two senders' names are not known to be one place"),
    (side("", municipality=HERE), side("", municipality=HERE), False, "nothing to go by"),
]


@pytest.mark.parametrize("a, b, same, why", SPEC, ids=[row[3] for row in SPEC])
def test_identity_rules(a, b, same, why):
    assert same_location(a, b) is same, why
    assert same_location(b, a) is same, f"{why} (the other way round)"


def test_within_one_message_an_unknown_municipality_is_the_same():
    a, b = side("Vakantiepark", municipality=None), side("Vakantiepark", municipality=None)
    assert same_location(a, b, within_message=True)
    assert not same_location(a, side("Kampeerboerderij", municipality=None), within_message=True)


@pytest.mark.parametrize("address, key", [
    ("Sportlaan 1", "sportlaan 1"), ("Vaart N.Z. 60", "vaart nz 60"), ("Kerkstraat 7 A", "kerkstraat 7a"),
    ("Hoofdstraat 131-A", "hoofdstraat 131a"), ("1e Hogeweg 12", "1e hogeweg 12"),
    ("Bosweg 1015 te Dorp", "bosweg 1015"), ("Sportlaan 1, 1234 AB Dorp", "sportlaan 1"),
    ("Kerkplein", None), (None, None), ("Sint-Jansstraat 004", "sint jansstraat 4"),
])
def test_address_key(address, key):
    assert address_key(address) == key


@pytest.mark.parametrize("name, key, core", [
    ("Voormalige Sporthal De Vliet", "sporthal vliet", "vliet"), ("De Vliet", "vliet", "vliet"),
    ("Kazerne", "kazerne", None), ("Bed & Breakfast Het Veld", "bed breakfast veld", "veld"),
    ("Café 't Hoekje", "cafe hoekje", "cafe hoekje"), (None, None, None),
])
def test_name_key_and_core(name, key, core):
    assert (name_key(name), name_core(name)) == (key, core)


def test_best_match_prefers_an_address_and_does_not_guess_between_names():
    vliet_hall, vliet_school = side("Sporthal De Vliet", "Vlietweg 3"), side("Basisschool De Vliet", "Schoolweg 1")
    assert best_match(side("De Vliet"), [(1, vliet_hall), (2, vliet_school)]) is None
    assert best_match(side("Sporthal De Vliet"), [(1, vliet_hall), (2, vliet_school)]) == 1
    assert best_match(side("Hal", "Vlietweg 3"), [(1, side("Hal")), (2, vliet_hall)]) == 2


# --- linking in the store -------------------------------------------------------------------------

def offer(location: str, address: str | None = None, postcode: str | None = None, places: int | None = 40,
          municipality: str | None = "Voorbeeld", code: str | None = HERE, status: str = "available") -> Offer:
    return Offer(municipality=municipality, municipality_code=code, location=location, address=address,
                 postcode=postcode, places=places, status=status, contact=Contact(name="J. Jansen"),
                 confidence={"places": 0.9}, needs_review=False)


class Mail:
    def __init__(self, store):
        self.store, self.count = store, 0

    def message(self, days: int = 0) -> int:
        self.count += 1
        raw = (f"Message-ID: <loc{self.count}@gemeente.example>\r\nSubject: opvang\r\n\r\n"
               f"bericht {self.count}\r\n").encode()
        with self.store.session() as session:
            pk = store_raw(session, RawMessage(raw=raw, source="test")).pk
            session.get(Message, pk).sent_at = SENT + timedelta(days=days)
        return pk

    def extract(self, pk: int, offers: list[Offer], version: str = "1") -> list[int]:
        with self.store.session() as session:
            return [row.id for row in replace_offers(session, session.get(Message, pk), offers, version)]

    def add(self, offers: list[Offer], days: int = 0) -> list[int]:
        return self.extract(self.message(days), offers)


@pytest.fixture
def mail(store) -> Mail:
    return Mail(store)


def locations(store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Location))


def places_by_location(store) -> dict[str, int]:
    with store.session() as session:
        return {state.values["location"]: state.values.get("places") for state in location_states(session)
                if state.values["status"] == "available"}


def test_alike_names_at_different_addresses_are_two_locations(store, mail):
    mail.add([offer("Sporthal 1", "Sportlaan 1")])
    mail.add([offer("Sporthal 2", "Parkweg 7")], days=1)
    assert places_by_location(store) == {"Sporthal 1": 40, "Sporthal 2": 40}


def test_update_and_withdrawal_naming_only_the_location_fold_into_it(store, mail):
    first, _ = mail.add([offer("Sporthal De Vliet", "Vlietweg 3", "1234 AB", places=60),
                        offer("Basisschool De Linde", "Lindelaan 2", places=20)])
    [update] = mail.add([offer("De Vliet", places=80)], days=2)
    [withdrawal] = mail.add([offer("voormalige basisschool De Linde", places=None, status="withdrawn")], days=3)
    with store.session() as session:
        hall, school = location_states(session)
    assert (hall.history, hall.values["places"], hall.values["address"]) == ([first, update], 80, "Vlietweg 3")
    assert (school.history[-1], school.values["status"]) == (withdrawal, "withdrawn")
    assert locations(store) == 2


def test_a_location_learns_its_address_from_a_later_offer(store, mail):
    mail.add([offer("Sporthal De Vliet")])
    mail.add([offer("Sporthal De Vliet", "Vlietweg 3", "1234 AB", places=50)], days=1)
    mail.add([offer("Gymzaal", "Vlietweg 3", places=55)], days=2)          # by address now
    mail.add([offer("Sporthal De Vliet", "Parkweg 7", places=10)], days=3)  # same name, other address
    assert locations(store) == 2
    with store.session() as session:
        first = session.scalars(select(Location).order_by(Location.id)).first()
        assert (first.address_key, first.postcode_key) == ("vlietweg 3", "1234AB 3")


@pytest.mark.parametrize("offers", [
    [offer("Vakantiepark", municipality=None, code=None)],
    [offer("Vakantiepark", "Bosrand 4", municipality=None, code=None),
     offer("Kampeerboerderij", municipality=None, code=None)],
    [offer("Sporthal De Vliet", "Vlietweg 3"), offer("Sporthal De Vliet", "Vlietweg 3")],
], ids=["without municipality", "two without municipality", "twice the same in one message"])
def test_reprocess_keeps_the_number_of_locations(store, mail, offers):
    pk = mail.message()
    first = mail.extract(pk, offers, version="1")
    with store.session() as session:
        before = [session.get(OfferRow, offer_id).location_id for offer_id in first]
    for version in ("2", "3"):
        again = mail.extract(pk, offers, version=version)
    with store.session() as session:
        assert [session.get(OfferRow, offer_id).location_id for offer_id in again] == before
    assert locations(store) == len(set(before))


def test_reprocess_heals_alike_names_an_older_extractor_merged(store, mail):
    """Machine offers linked by the old name rule to one location get their own location again."""
    pk = mail.message()
    [hall_1, hall_2] = mail.extract(pk, [offer("Sporthal 1", "Sportlaan 1"), offer("Sporthal 2", "Parkweg 7")])
    with store.session() as session:                                  # as the old rule left them
        session.get(OfferRow, hall_2).location_id = session.get(OfferRow, hall_1).location_id
    mail.extract(pk, [offer("Sporthal 1", "Sportlaan 1"), offer("Sporthal 2", "Parkweg 7")], version="2")
    assert places_by_location(store) == {"Sporthal 1": 40, "Sporthal 2": 40}


def form(row: OfferRow, **changes) -> dict:
    return {**{column: getattr(row, column) for column in FIELDS}, **changes}


@pytest.mark.parametrize("copy_first", [False, True], ids=["original first", "copy first"])
def test_split_offer_corrected_to_two_addresses_is_two_locations(store, mail, copy_first):
    [merged] = mail.add([offer("Sporthal 1 en Sporthal 2", "Sportlaan 1", places=80)])
    with store.session() as session:
        row = session.get(OfferRow, merged)
        copy = split_offer(session, row, "anna", row.version).id
    corrections = [(merged, {"location": "Sporthal 1", "places": 40}),
                   (copy, {"location": "Sporthal 2", "address": "Parkweg 7", "places": 40})]
    for offer_id, changes in reversed(corrections) if copy_first else corrections:
        with store.session() as session:
            row = session.get(OfferRow, offer_id)
            review_offer(session, row, "anna", row.version, "approve", form(row, **changes))
    assert places_by_location(store) == {"Sporthal 1": 40, "Sporthal 2": 40}
    assert locations(store) == 2


def test_correcting_an_address_keeps_the_location_it_alone_was_on(store, mail):
    [offer_id] = mail.add([offer("Sporthal De Vliet", "Vlietweg 33")])
    with store.session() as session:
        row = session.get(OfferRow, offer_id)
        before = row.location_id
        review_offer(session, row, "anna", row.version, "approve", form(row, address="Vlietweg 3"))
    with store.session() as session:
        location = session.get(Location, before)
        assert session.get(OfferRow, offer_id).location_id == before
        assert (location.address, location.address_key) == ("Vlietweg 3", "vlietweg 3")
    mail.add([offer("Gymzaal", "Vlietweg 3")], days=1)
    assert locations(store) == 1


def test_link_location_is_an_index_lookup(sqlite_url):
    """SQLite's plan for the lookup reads the locations table through its indexes only."""
    from store import open_store
    store = open_store(sqlite_url)
    try:
        keys = identity(HERE, "Sporthal De Vliet", "Vlietweg 3", "1234 AB")
        with store.engine.connect() as connection:
            statement = lookup_query(keys).compile(connection, compile_kwargs={"literal_binds": True})
            plan = " | ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}"))
        assert "SCAN locations" not in plan and "ix_locations_" in plan, plan
        with store.session() as session:
            assert find_location(session, keys) is None
    finally:
        store.dispose()


# --- upgrading a store made before the keys -------------------------------------------------------

def insert(connection, table: str, **values) -> int:
    columns = ", ".join(values)
    connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + c for c in values)})"),
                       values)
    return connection.execute(text(f"SELECT max(id) FROM {table}")).scalar()


def fill_0003(connection) -> None:
    """A store as 0003 left it: a location with an address (its postcode on its offer), one without."""
    message = insert(connection, "messages", sha256="a", body_sha256="a", source="test", received_at=SENT,
                     sent_at=SENT, raw=b"raw", size=3, state="extracted", attempts=1)
    for position, (code, name, address, postcode) in enumerate([
            (HERE, "Sporthal De Vliet", "Vlietweg 3", "1234 AB"), (None, "Vakantiepark", None, None)]):
        location = insert(connection, "locations", municipality_code=code, name=name, address=address,
                          created_at=SENT, updated_at=SENT)
        offer_id = insert(connection, "offers", message_pk=message, position=position, location_id=location,
                          municipality_code=code, location=name, address=address, postcode=postcode,
                          status="available", confidence="{}", evidence="{}", needs_review=False,
                          review_state="auto_accepted", extractor_version="1", version=1, created_at=SENT,
                          updated_at=SENT)
        connection.execute(text("UPDATE locations SET current_offer_id = :o WHERE id = :l"),
                           {"o": offer_id, "l": location})


def test_upgrade_from_0003_fills_the_keys_and_links_to_existing_locations(store_url):
    engine = make_engine(store_url)
    try:
        cfg = alembic_config(store_url)
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "0003")
            fill_0003(connection)
        migrate(engine)
        with engine.connect() as connection:
            keys = connection.execute(text("SELECT address_key, postcode, postcode_key, name_key, name_core "
                                           "FROM locations ORDER BY id")).all()
        assert [tuple(row) for row in keys] == [("vlietweg 3", "1234AB", "1234AB 3", "sporthal vliet", "vliet"),
                                                (None, None, None, "vakantiepark", None)]
    finally:
        engine.dispose()
    from store import open_store
    store = open_store(store_url)
    try:
        mail = Mail(store)
        mail.add([offer("Gymzaal", "Vlietweg 3", "1234 AB", places=30)], days=1)
        assert locations(store) == 2
    finally:
        store.dispose()
