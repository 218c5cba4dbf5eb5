"""Everything the ministries read in the workbook and the e-mail, in plain Dutch, in one place."""

from __future__ import annotations

STATUS = {"available": "beschikbaar", "withdrawn": "ingetrokken"}

REVIEW = {
    "auto_accepted": "automatisch geaccepteerd",
    "approved": "gecontroleerd",
    "corrected": "gecontroleerd",
    "pending": "te controleren",
}

INDEFINITE = "onbepaald"
UNKNOWN_AREA = "Onbekend"
TOTAL = "Totaal"

#: Field names of SCHEMA.md (and its contact.* keys) as KCC staff and ministries say them.
FIELDS = {
    "municipality": "gemeente",
    "municipality_code": "CBS-code",
    "location": "locatie",
    "address": "adres",
    "postcode": "postcode",
    "place": "plaats",
    "available_from": "beschikbaar vanaf",
    "available_until": "beschikbaar tot",
    "places": "plekken",
    "places_max": "plekken max",
    "status": "status",
    "contact": "contactgegevens",
    "contact.name": "contactpersoon",
    "contact.role": "functie contactpersoon",
    "contact.phone": "telefoon",
    "contact.email": "e-mail",
}

CHANGE_KINDS = {"new": "nieuw", "changed": "gewijzigd", "withdrawn": "ingetrokken", "gone": "vervallen"}

SHEET_OVERVIEW = "Overzicht"
SHEET_LOCATIONS = "Locaties"
SHEET_CHANGES = "Wijzigingen"
SHEET_REVIEW = "Te controleren"
SHEET_NOTES = "Toelichting"

TITLE = "Opvanglocaties voor vluchtelingen uit Oekraïne"

#: (sheet, column, explanation) — the Toelichting sheet, in the order the sheets appear.
COLUMN_NOTES: list[tuple[str, str, str]] = [
    (SHEET_OVERVIEW, "Provincie / Veiligheidsregio",
     "Het gebied waarin de gemeente van de locatie ligt (indeling CBS 2022). 'Onbekend': de gemeente kon "
     "niet worden bepaald."),
    (SHEET_OVERVIEW, "Nu",
     "Locaties en plekken die op de datum van dit overzicht beschikbaar zijn."),
    (SHEET_OVERVIEW, "Week … (datum)",
     "Locaties en plekken die op de maandag van die week beschikbaar zijn (de acht weken na vandaag)."),
    (SHEET_LOCATIONS, "Gemeente", "De gemeente waar de locatie ligt, gespeld zoals het CBS dat doet."),
    (SHEET_LOCATIONS, "CBS-code", "De gemeentecode van het CBS (GMxxxx)."),
    (SHEET_LOCATIONS, "Provincie", "De provincie van de gemeente."),
    (SHEET_LOCATIONS, "Veiligheidsregio", "De veiligheidsregio van de gemeente."),
    (SHEET_LOCATIONS, "Locatie", "De naam van de locatie zoals de gemeente die noemt."),
    (SHEET_LOCATIONS, "Adres, Postcode, Plaats", "Waar de locatie is, voor zover de gemeente dat meldde."),
    (SHEET_LOCATIONS, "Beschikbaar vanaf", "Vanaf deze datum kan de locatie mensen opvangen. Leeg: niet "
     "gemeld; de locatie telt dan mee alsof ze al beschikbaar is."),
    (SHEET_LOCATIONS, "Beschikbaar tot", "Tot en met deze datum is de locatie beschikbaar. 'onbepaald': "
     "voor onbepaalde tijd of tot nader order. Leeg: niet gemeld."),
    (SHEET_LOCATIONS, "Plekken", "Het aantal mensen dat de locatie kan opvangen. Bij een marge (bijv. "
     "40 à 50) het laagste getal."),
    (SHEET_LOCATIONS, "Plekken max", "Bij een marge het hoogste getal; anders leeg."),
    (SHEET_LOCATIONS, "Status", "'beschikbaar', of 'ingetrokken' als de gemeente het aanbod heeft "
     "teruggetrokken."),
    (SHEET_LOCATIONS, "Telt nu mee", "'ja' als de locatie vandaag meetelt in de totalen op het blad "
     "Overzicht."),
    (SHEET_LOCATIONS, "Contactpersoon, Functie, Telefoon, E-mail",
     "De contactpersoon bij de gemeente voor deze locatie. Alleen in de versie met contactgegevens."),
    (SHEET_LOCATIONS, "Beoordeling", "'automatisch geaccepteerd': het programma was zeker van alle "
     "belangrijke gegevens; 'gecontroleerd': een medewerker van het KCC heeft de gegevens nagekeken; "
     "'te controleren': een medewerker moet de gegevens nog nakijken."),
    (SHEET_LOCATIONS, "Laatste wijziging", "Wanneer de gemeente de laatste wijziging mailde, of wanneer "
     "een medewerker de gegevens controleerde (Nederlandse tijd)."),
    (SHEET_LOCATIONS, "Bron", "Het kenmerk (Message-ID) van de e-mail waar de gegevens uit komen."),
    (SHEET_CHANGES, "Soort", "'nieuw': locatie die in het vorige overzicht nog niet stond; 'gewijzigd': "
     "een of meer gegevens zijn anders; 'ingetrokken': de gemeente heeft het aanbod teruggetrokken; "
     "'vervallen': de locatie staat niet meer in het overzicht (bijv. afgekeurd bij controle)."),
    (SHEET_CHANGES, "Veld, Oud, Nieuw", "Welk gegeven veranderde, de waarde in het vorige overzicht en de "
     "waarde nu. Contactgegevens zelf worden in het vorige overzicht niet bewaard."),
    (SHEET_REVIEW, "Onzekere gegevens", "De gegevens waarvan het programma niet zeker genoeg was; een "
     "medewerker van het KCC controleert ze. Dit blad bevat geen persoonsgegevens."),
    (SHEET_REVIEW, "Wacht sinds", "Wanneer de e-mail binnenkwam (Nederlandse tijd)."),
]

COUNTING_RULES: list[str] = [
    "Een locatie telt mee op een dag als aan alle drie voorwaarden is voldaan:",
    "1. de status is 'beschikbaar' (ingetrokken locaties tellen nooit mee);",
    "2. 'beschikbaar vanaf' is leeg of ligt op of vóór die dag;",
    "3. 'beschikbaar tot' is leeg, 'onbepaald', of ligt op of na die dag.",
    "'Nu' is de datum van dit overzicht; een week telt op de maandag van die week.",
    "Locaties waarvan de beschikbaarheid voorbij is, tellen dus niet mee in de totalen.",
    "Plekken: het laagste genoemde aantal. Een locatie zonder aantal telt mee als locatie, met 0 plekken.",
    "Per locatie geldt de laatste melding van de gemeente; latere e-mails vullen eerdere aan.",
    "Gegevens die nog gecontroleerd moeten worden, staan er al in (beoordeling 'te controleren').",
]
