"""locations: identity keys, indexed, so an offer is linked to its location by lookup

``postcode``, ``address_key`` (street + house number), ``postcode_key`` (postcode + house
number), ``name_key`` and ``name_core`` (``vng_ingest.locations``). Existing locations get
their keys from their name and address, and the postcode of the offer that gave the address.
Runs inside the one upgrade transaction of ``store.db.migrate``, like every migration.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa

from vng_ingest.locations import identity


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

KEYS = ("postcode", "address_key", "postcode_key", "name_key", "name_core")
INDEXES = {"ix_locations_address_key": ["municipality_code", "address_key"],
           "ix_locations_postcode_key": ["postcode_key"],
           "ix_locations_name_key": ["municipality_code", "name_key"],
           "ix_locations_name_core": ["municipality_code", "name_core"]}
LIVE = ("pending", "auto_accepted", "approved", "corrected")


def upgrade() -> None:
    with op.batch_alter_table('locations') as batch_op:
        batch_op.add_column(sa.Column('postcode', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('address_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('postcode_key', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('name_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('name_core', sa.String(length=200), nullable=True))
    with op.batch_alter_table('locations') as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    _fill_keys(op.get_bind())


def _fill_keys(connection) -> None:
    locations = sa.table("locations", sa.column("id"), sa.column("municipality_code"), sa.column("name"),
                         sa.column("address"), *(sa.column(key) for key in KEYS))
    offers = sa.table("offers", sa.column("id"), sa.column("location_id"), sa.column("address"),
                      sa.column("postcode"), sa.column("review_state"))
    postcodes: dict[int, str] = {}
    found = connection.execute(
        sa.select(offers.c.location_id, offers.c.address, offers.c.postcode, locations.c.address)
        .join(locations, locations.c.id == offers.c.location_id)
        .where(offers.c.postcode.is_not(None), offers.c.review_state.in_(LIVE))
        .order_by(offers.c.id))
    for location_id, offer_address, postcode, location_address in found:
        if offer_address == location_address:
            postcodes.setdefault(location_id, postcode)
    rows = connection.execute(sa.select(locations.c.id, locations.c.municipality_code, locations.c.name,
                                        locations.c.address)).all()
    for location_id, code, name, address in rows:
        keys = identity(code, name, address, postcodes.get(location_id))
        connection.execute(locations.update().where(locations.c.id == location_id)
                           .values({key: getattr(keys, key) for key in KEYS}))


def downgrade() -> None:
    with op.batch_alter_table('locations') as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
        for key in reversed(KEYS):
            batch_op.drop_column(key)
