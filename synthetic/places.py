"""Municipalities per police regional unit (a few of the larger ones in each; public geography).

Used only to give records a plausible `municipality`; not calibrated. The Hague is written with its
official municipality name "'s-Gravenhage".
"""

from __future__ import annotations

MUNICIPALITIES: dict[str, tuple[str, ...]] = {
    "noord-nederland": ("Groningen", "Leeuwarden", "Assen", "Emmen", "Smallingerland"),
    "oost-nederland": ("Arnhem", "Nijmegen", "Enschede", "Apeldoorn", "Zwolle", "Deventer"),
    "midden-nederland": ("Utrecht", "Amersfoort", "Almere", "Lelystad", "Nieuwegein"),
    "noord-holland": ("Haarlem", "Zaanstad", "Alkmaar", "Hilversum", "Den Helder", "Hoorn"),
    "amsterdam": ("Amsterdam", "Amstelveen", "Diemen", "Aalsmeer"),
    "den-haag": ("'s-Gravenhage", "Leiden", "Westland", "Zoetermeer", "Delft"),
    "rotterdam": ("Rotterdam", "Dordrecht", "Schiedam", "Gorinchem", "Nissewaard"),
    "zeeland-west-brabant": ("Breda", "Tilburg", "Middelburg", "Roosendaal", "Bergen op Zoom", "Terneuzen"),
    "oost-brabant": ("Eindhoven", "'s-Hertogenbosch", "Helmond", "Oss", "Uden"),
    "limburg": ("Maastricht", "Venlo", "Heerlen", "Roermond", "Sittard-Geleen", "Horst aan de Maas"),
}
