"""The connector's own database: SQLModel tables and the only module that queries them."""
