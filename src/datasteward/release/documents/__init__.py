"""The documents of a release: datasheet, card, Croissant, DataCite, changelog, and the
facts they state."""
