"""The physical system: units, calendar, the reservoir's level–storage–area table, the
hydropower plant, losses and water users. No module here knows about rules, the engine or files."""
