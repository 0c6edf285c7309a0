"""What a place's signs, calendars and price tags say: fictional businesses in the local language and script.

Businesses, posters and phone subscriber numbers are invented; calling codes, area codes, domains, currencies and
city names come from the atlas. Every character the generator can write is listed by characters_by_font(), which
is what the shipped font subsets were cut to (synthetic_data/fonts/README.md).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from synthetic_data.atlas import Location, load_atlas

# Font keys, one per shipped font file (synthetic_data/fonts/).
LATIN, THAI, DEVANAGARI = "latin", "thai", "devanagari"
CJK_SC, CJK_TC, CJK_JP, CJK_KR = "cjk_sc", "cjk_tc", "cjk_jp", "cjk_kr"
FONT_KEYS = (LATIN, THAI, DEVANAGARI, CJK_SC, CJK_TC, CJK_JP, CJK_KR)


@dataclass(frozen=True)
class Wording:
    """How one language names shops, branches and months; `font` draws its own script, Latin covers the rest."""

    font: str
    kinds: tuple[tuple[str, str], ...]  # (word on the sign, ASCII slug for the web address)
    names: tuple[tuple[str, str], ...]
    sign: str  # format of the business name from {name} and {kind}
    branch: str  # format of the branch line from {city}
    months: tuple[str, ...]
    calendar: str  # format of a calendar's title from {month}, {m} and {year}
    posters: tuple[str, ...]
    year_offset: int = 0  # Thai calendars count Buddhist Era years: CE + 543


ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                  "November", "December")
NUMBERED_MONTHS = tuple(str(m) for m in range(1, 13))

WORDINGS: dict[str, Wording] = {
    "th": Wording(
        THAI,
        (("ร้านขายยา", "pharmacy"), ("ก๋วยเตี๋ยว", "noodles"), ("ร้านซักรีด", "laundry"), ("ร้านตัดเสื้อ", "tailor"),
         ("เบเกอรี่", "bakery"), ("ร้านกาแฟ", "coffee"), ("มินิมาร์ท", "minimart"), ("โรงแรม", "hotel")),
        (("ดอกบัว", "lotus"), ("ทะเลทอง", "goldensea"), ("ฟ้าใส", "clearsky"), ("บ้านสวน", "gardenhouse")),
        "{kind} {name}", "สาขา{city}",
        ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม",
         "พฤศจิกายน", "ธันวาคม"),
        "{month} พ.ศ. {year}", ("เทศกาลอาหาร", "ตลาดนัด"), year_offset=543,
    ),
    "zh-Hans": Wording(
        CJK_SC,
        (("药房", "pharmacy"), ("面馆", "noodles"), ("洗衣店", "laundry"), ("裁缝店", "tailor"), ("面包店", "bakery"),
         ("咖啡馆", "coffee"), ("便利店", "minimart"), ("酒店", "hotel")),
        (("莲花", "lotus"), ("金海", "goldensea"), ("晴空", "clearsky"), ("翠竹", "bamboo")),
        "{name}{kind}", "{city}分店", NUMBERED_MONTHS, "{year}年{m}月", ("美食节", "夜市"),
    ),
    "zh-Hant": Wording(
        CJK_TC,
        (("藥房", "pharmacy"), ("麵館", "noodles"), ("洗衣店", "laundry"), ("裁縫店", "tailor"), ("麵包店", "bakery"),
         ("咖啡館", "coffee"), ("便利店", "minimart"), ("酒店", "hotel")),
        (("蓮花", "lotus"), ("金海", "goldensea"), ("晴空", "clearsky"), ("翠竹", "bamboo")),
        "{name}{kind}", "{city}分店", NUMBERED_MONTHS, "{year}年{m}月", ("美食節", "夜市"),
    ),
    "ja": Wording(
        CJK_JP,
        (("薬局", "pharmacy"), ("ラーメン", "ramen"), ("クリーニング", "cleaning"), ("テーラー", "tailor"),
         ("パン屋", "bakery"), ("カフェ", "cafe"), ("コンビニ", "konbini"), ("ホテル", "hotel")),
        (("さくら", "sakura"), ("青空", "aozora"), ("みなと", "minato"), ("ひまわり", "himawari")),
        "{name}{kind}", "{city}店", NUMBERED_MONTHS, "{year}年{m}月", ("夏祭り", "花火大会"),
    ),
    "ko": Wording(
        CJK_KR,
        (("약국", "pharmacy"), ("국수", "noodles"), ("세탁소", "laundry"), ("양복점", "tailor"), ("빵집", "bakery"),
         ("카페", "cafe"), ("편의점", "minimart"), ("호텔", "hotel")),
        (("연꽃", "lotus"), ("푸른바다", "bluesea"), ("맑은하늘", "clearsky"), ("해바라기", "sunflower")),
        "{name} {kind}", "{city}점", NUMBERED_MONTHS, "{year}년 {m}월", ("음식 축제", "야시장"),
    ),
    "hi": Wording(
        DEVANAGARI,
        (("मेडिकल स्टोर", "medical"), ("ढाबा", "dhaba"), ("ड्राई क्लीनर्स", "drycleaners"), ("टेलर्स", "tailors"),
         ("बेकरी", "bakery"), ("टी स्टॉल", "teastall"), ("किराना स्टोर", "kirana"), ("होटल", "hotel")),
        (("कमल", "kamal"), ("सागर", "sagar"), ("आकाश", "akash"), ("गंगा", "ganga")),
        "{name} {kind}", "{city}",
        ("जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्टूबर", "नवंबर", "दिसंबर"),
        "{month} {year}", ("खाद्य मेला", "रात्रि बाज़ार"),
    ),
    "ne": Wording(
        DEVANAGARI,
        (("औषधि पसल", "pharmacy"), ("खाजा घर", "khajaghar"), ("लन्ड्री", "laundry"), ("टेलर्स", "tailors"),
         ("बेकरी", "bakery"), ("चिया पसल", "teashop"), ("किराना पसल", "kirana"), ("होटल", "hotel")),
        (("हिमाल", "himal"), ("सगरमाथा", "sagarmatha"), ("कमल", "kamal"), ("आकाश", "akash")),
        "{name} {kind}", "{city}",
        ("जनवरी", "फेब्रुअरी", "मार्च", "अप्रिल", "मे", "जुन", "जुलाई", "अगस्ट", "सेप्टेम्बर", "अक्टोबर", "नोभेम्बर",
         "डिसेम्बर"),
        "{month} {year}", ("खाद्य मेला", "चाड पर्व"),
    ),
    "mn": Wording(
        LATIN,
        (("Эмийн сан", "pharmacy"), ("Гуанз", "guanz"), ("Хими цэвэрлэгээ", "drycleaning"), ("Оёдлын газар", "tailor"),
         ("Талхны дэлгүүр", "bakery"), ("Кофе шоп", "coffee"), ("Дэлгүүр", "store"), ("Зочид буудал", "hotel")),
        (("Наран", "naran"), ("Хөх тэнгэр", "khukhtenger"), ("Алтан", "altan"), ("Цэцэг", "tsetseg")),
        "{name} {kind}", "{city} салбар", NUMBERED_MONTHS, "{year} оны {m}-р сар", ("Наадам", "Хүнсний яармаг"),
    ),
    "vi": Wording(
        LATIN,
        (("Nhà thuốc", "nhathuoc"), ("Phở", "pho"), ("Giặt ủi", "giatui"), ("Nhà may", "nhamay"), ("Tiệm bánh", "tiembanh"),
         ("Cà phê", "caphe"), ("Tạp hóa", "taphoa"), ("Khách sạn", "khachsan")),
        (("Hoa Sen", "hoasen"), ("Biển Xanh", "bienxanh"), ("Bình Minh", "binhminh"), ("Sao Mai", "saomai")),
        "{kind} {name}", "Chi nhánh {city}", NUMBERED_MONTHS, "Tháng {m}/{year}", ("Lễ hội ẩm thực", "Chợ đêm"),
    ),
    "ms": Wording(
        LATIN,
        (("Farmasi", "farmasi"), ("Restoran", "restoran"), ("Kedai Dobi", "dobi"), ("Kedai Jahit", "jahit"),
         ("Kedai Roti", "roti"), ("Kedai Kopi", "kopi"), ("Kedai Runcit", "runcit"), ("Hotel", "hotel")),
        (("Seri Teratai", "teratai"), ("Bintang", "bintang"), ("Cahaya", "cahaya"), ("Melati", "melati")),
        "{kind} {name}", "Cawangan {city}",
        ("Januari", "Februari", "Mac", "April", "Mei", "Jun", "Julai", "Ogos", "September", "Oktober", "November",
         "Disember"),
        "{month} {year}", ("Pesta Makanan", "Pasar Malam"),
    ),
    "id": Wording(
        LATIN,
        (("Apotek", "apotek"), ("Rumah Makan", "rumahmakan"), ("Binatu", "binatu"), ("Penjahit", "penjahit"),
         ("Toko Roti", "tokoroti"), ("Warung Kopi", "warkop"), ("Toko Kelontong", "kelontong"), ("Hotel", "hotel")),
        (("Teratai", "teratai"), ("Bintang", "bintang"), ("Cahaya", "cahaya"), ("Melati", "melati")),
        "{kind} {name}", "Cabang {city}",
        ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November",
         "Desember"),
        "{month} {year}", ("Festival Kuliner", "Pasar Malam"),
    ),
    "fil": Wording(
        LATIN,
        (("Botika", "botika"), ("Karinderya", "karinderya"), ("Labahan", "labahan"), ("Sastre", "sastre"),
         ("Panaderya", "panaderya"), ("Kapihan", "kapihan"), ("Sari-Sari Store", "sarisari"), ("Hotel", "hotel")),
        (("Sampaguita", "sampaguita"), ("Bituin", "bituin"), ("Liwayway", "liwayway"), ("Mabuhay", "mabuhay")),
        "{kind} {name}", "{city} Branch",
        ("Enero", "Pebrero", "Marso", "Abril", "Mayo", "Hunyo", "Hulyo", "Agosto", "Setyembre", "Oktubre", "Nobyembre",
         "Disyembre"),
        "{month} {year}", ("Pista ng Bayan", "Tiangge"),
    ),
    "en": Wording(
        LATIN,
        (("PHARMACY", "pharmacy"), ("NOODLE HOUSE", "noodlehouse"), ("LAUNDRY", "laundry"), ("TAILORS", "tailors"),
         ("BAKERY", "bakery"), ("CAFE", "cafe"), ("MINI MART", "minimart"), ("HOTEL", "hotel")),
        (("LOTUS", "lotus"), ("BLUE GECKO", "bluegecko"), ("PALM GROVE", "palmgrove"), ("CORAL BAY", "coralbay")),
        "{name} {kind}", "{city} Branch", ENGLISH_MONTHS, "{month} {year}", ("NIGHT MARKET", "FOOD FAIR"),
    ),
    "de": Wording(
        LATIN,
        (("Apotheke", "apotheke"), ("Imbiss", "imbiss"), ("Wäscherei", "waescherei"), ("Schneiderei", "schneiderei"),
         ("Bäckerei", "baeckerei"), ("Café", "cafe"), ("Kiosk", "kiosk"), ("Hotel", "hotel")),
        (("Linden", "linden"), ("Sonnen", "sonnen"), ("Rosen", "rosen"), ("Stern", "stern")),
        "{name}-{kind}", "Filiale {city}",
        ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November",
         "Dezember"),
        "{month} {year}", ("Flohmarkt", "Stadtfest"),
    ),
    "pt": Wording(
        LATIN,
        (("Farmácia", "farmacia"), ("Lanchonete", "lanchonete"), ("Lavanderia", "lavanderia"),
         ("Alfaiataria", "alfaiataria"), ("Padaria", "padaria"), ("Café", "cafe"), ("Mercearia", "mercearia"),
         ("Hotel", "hotel")),
        (("Estrela", "estrela"), ("Girassol", "girassol"), ("Ipê", "ipe"), ("Aurora", "aurora")),
        "{kind} {name}", "Filial {city}",
        ("Janeiro", "Fevereiro", "Março", "Abril", "Maio", "Junho", "Julho", "Agosto", "Setembro", "Outubro",
         "Novembro", "Dezembro"),
        "{month} {year}", ("Feira Livre", "Festa Junina"),
    ),
    "es": Wording(
        LATIN,
        (("Farmacia", "farmacia"), ("Taquería", "taqueria"), ("Lavandería", "lavanderia"), ("Sastrería", "sastreria"),
         ("Panadería", "panaderia"), ("Café", "cafe"), ("Abarrotes", "abarrotes"), ("Hotel", "hotel")),
        (("La Estrella", "laestrella"), ("El Sol", "elsol"), ("La Palma", "lapalma"), ("Aurora", "aurora")),
        "{kind} {name}", "Sucursal {city}",
        ("Enero", "Febrero", "Marzo", "Abril", "Mayo", "Junio", "Julio", "Agosto", "Septiembre", "Octubre",
         "Noviembre", "Diciembre"),
        "{month} {year}", ("Tianguis", "Feria del Libro"),
    ),
}


@dataclass(frozen=True)
class PriceFormat:
    """How a price tag shows money: a format of {amount}, the range and step of amounts, and the separators."""

    text: str
    low: float
    high: float
    step: float
    decimals: int = 0
    thousands: str = ","
    decimal_point: str = "."


# Keyed by ISO 4217 code. Cambodia prices everyday goods in US dollars, so KHR tags are rare; the riel sign (Khmer
# script) is not among the shipped fonts, so Cambodian tags use dollars, as most shop tags there do.
PRICE_FORMATS: dict[str, PriceFormat] = {
    "THB": PriceFormat("฿{amount}", 20, 500, 5),
    "PHP": PriceFormat("₱{amount}", 25, 900, 5, 2),
    "VND": PriceFormat("{amount}₫", 10000, 250000, 1000, thousands="."),
    "KHR": PriceFormat("${amount}", 1, 30, 0.25, 2),
    "LAK": PriceFormat("{amount} ₭", 10000, 90000, 1000),
    "MYR": PriceFormat("RM{amount}", 2, 60, 0.1, 2),
    "SGD": PriceFormat("${amount}", 2, 60, 0.1, 2),
    "IDR": PriceFormat("Rp {amount}", 5000, 150000, 500, thousands="."),
    "JPY": PriceFormat("{amount}円", 100, 3000, 10),
    "KRW": PriceFormat("{amount}원", 1000, 30000, 500),
    "CNY": PriceFormat("¥{amount}", 5, 200, 0.5, 2),
    "HKD": PriceFormat("${amount}", 10, 300, 0.5, 1),
    "MOP": PriceFormat("MOP${amount}", 10, 300, 1),
    "TWD": PriceFormat("NT${amount}", 30, 500, 5),
    "INR": PriceFormat("₹{amount}", 10, 900, 5),
    "NPR": PriceFormat("रू {amount}", 50, 900, 5),
    "LKR": PriceFormat("Rs. {amount}", 100, 3000, 10, 2),
    "BDT": PriceFormat("Tk {amount}", 20, 900, 5),
    "MMK": PriceFormat("{amount} Ks", 500, 20000, 100),
    "MNT": PriceFormat("{amount}₮", 1000, 30000, 100),
    "USD": PriceFormat("${amount}", 1, 40, 0.05, 2),
    "BND": PriceFormat("${amount}", 1, 40, 0.1, 2),
    "AUD": PriceFormat("${amount}", 2, 60, 0.05, 2),
    "NZD": PriceFormat("${amount}", 2, 60, 0.1, 2),
    "FJD": PriceFormat("${amount}", 2, 60, 0.05, 2),
    "PGK": PriceFormat("K{amount}", 2, 80, 0.1, 2),
    "GBP": PriceFormat("£{amount}", 1, 40, 0.05, 2),
    "CAD": PriceFormat("${amount}", 1, 40, 0.05, 2),
    "EUR": PriceFormat("{amount} €", 1, 40, 0.05, 2, thousands=".", decimal_point=","),
    "BRL": PriceFormat("R$ {amount}", 2, 90, 0.1, 2, thousands=".", decimal_point=","),
    "MXN": PriceFormat("${amount}", 10, 300, 1),
    "KES": PriceFormat("KSh {amount}", 50, 2000, 10),
    "AED": PriceFormat("AED {amount}", 5, 200, 1),
}
# The currency a tag actually shows, where shops price in another one.
PRICE_CURRENCY = {"KHR": "USD"}


@dataclass(frozen=True)
class Business:
    """A fictional business of a city, as printed on its sign or its giveaway calendar."""

    name: str  # in the local language and script
    branch: str  # the city line, in the local language
    phone: str
    web: str
    language: str


def language_of(place: Location) -> str:
    """The first language of the place that the generator has words for (English where it has none)."""
    return next((language for language in place.languages if language in WORDINGS), "en")


def font_of(place: Location) -> str:
    """Which font draws the place's own script."""
    return WORDINGS[language_of(place)].font


def city_name(place: Location, language: str) -> str:
    """The city as signs in `language` write it: its local name where that is the place's own language and script,
    else the English name (a Cambodian sign in English says Phnom Penh, not ភ្នំពេញ)."""
    own = WORDINGS[language].font
    if own == LATIN:
        return place.city_local if place.languages[:1] == (language,) else place.city
    drawable = all(char == " " or font_for_char(char, own) == own for char in place.city_local)
    return place.city_local if drawable else place.city


def phone_number(place: Location, rng: random.Random) -> str:
    """An international-format number with the real calling and area codes and a fictional 555 01xx subscriber."""
    area = f" {place.area_code}" if place.area_code else ""
    return f"+{place.calling_code}{area} 555 01{rng.randint(0, 99):02d}"


def business(place: Location, rng: random.Random) -> Business:
    """A fictional business in the place's language, with its branch city, phone number and web address."""
    language = language_of(place)
    words = WORDINGS[language]
    kind, kind_slug = rng.choice(words.kinds)
    name, name_slug = rng.choice(words.names)
    return Business(
        name=words.sign.format(name=name, kind=kind),
        branch=words.branch.format(city=city_name(place, language)),
        phone=phone_number(place, rng),
        web=f"www.{name_slug}-{kind_slug}.{place.web_suffix}",
        language=language,
    )


def grouped(whole: int, separator: str) -> str:
    """An integer with thousands separators: 25000 -> '25.000' with '.'."""
    return f"{whole:,}".replace(",", separator)


def price_tag(place: Location, rng: random.Random) -> tuple[str, str]:
    """A price as the place's tags print it, and the ISO code of the currency it is in."""
    code = PRICE_CURRENCY.get(place.currency_code, place.currency_code)
    fmt = PRICE_FORMATS[code]
    steps = round((fmt.high - fmt.low) / fmt.step)
    amount = fmt.low + fmt.step * rng.randint(0, steps)
    whole, fraction = f"{amount:.{fmt.decimals}f}".partition(".")[::2]
    text = grouped(int(whole), fmt.thousands) + (fmt.decimal_point + fraction if fmt.decimals else "")
    return fmt.text.format(amount=text), code


def calendar_title(place: Location, year: int, month: int) -> str:
    """A calendar page's title in the place's language: Thai pages count Buddhist Era years."""
    words = WORDINGS[language_of(place)]
    return words.calendar.format(month=words.months[month - 1], m=month, year=year + words.year_offset)


def poster_title(place: Location, rng: random.Random) -> str:
    """An event poster's title in the place's language."""
    return rng.choice(WORDINGS[language_of(place)].posters)


PLATE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def number_plate(rng: random.Random) -> str:
    """A fictional number plate (Latin letters and digits, as most of the region's plates are)."""
    return "".join(rng.choice(PLATE_LETTERS) for _ in range(3)) + f" {rng.randint(0, 9999):04d}"


# Unicode blocks each script font covers; everything else (Latin, Vietnamese, Cyrillic, digits, symbols) is LATIN.
SCRIPT_BLOCKS: dict[str, tuple[tuple[int, int], ...]] = {
    THAI: ((0x0E00, 0x0E7F),),
    DEVANAGARI: ((0x0900, 0x097F), (0xA8E0, 0xA8FF)),
    "cjk": ((0x1100, 0x11FF), (0x2E80, 0x2FDF), (0x3000, 0x30FF), (0x3130, 0x318F), (0x3190, 0x9FFF),
            (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF)),
}


def font_for_char(char: str, own_font: str) -> str:
    """The font that draws one character of a text whose own script is drawn by own_font."""
    code = ord(char)
    for script, blocks in SCRIPT_BLOCKS.items():
        if any(low <= code <= high for low, high in blocks):
            if script == "cjk":
                return own_font if own_font.startswith("cjk") else CJK_SC
            return script
    return LATIN


def runs(text: str, own_font: str) -> list[tuple[str, str]]:
    """Split text into (font key, piece) runs; spaces stay with the run they follow."""
    pieces: list[tuple[str, str]] = []
    for char in text:
        key = pieces[-1][0] if char == " " and pieces else font_for_char(char, own_font)
        if pieces and pieces[-1][0] == key:
            pieces[-1] = (key, pieces[-1][1] + char)
        else:
            pieces.append((key, char))
    return pieces


def all_texts() -> dict[str, list[str]]:
    """Every fixed text the generator may write, by the font of its language (numbers and plates are ASCII)."""
    texts: dict[str, list[str]] = {key: [] for key in FONT_KEYS}
    for language, words in WORDINGS.items():
        pieces = [word for word, _ in words.kinds + words.names] + list(words.months) + list(words.posters)
        pieces += [words.sign, words.branch, words.calendar]
        texts[words.font] += pieces
    for place in load_atlas():
        language = language_of(place)
        code = PRICE_CURRENCY.get(place.currency_code, place.currency_code)
        texts[font_of(place)] += [city_name(place, language), PRICE_FORMATS[code].text]
    texts[LATIN].append(string.printable.strip())
    return texts


def characters_by_font() -> dict[str, str]:
    """Every character each shipped font must hold, sorted: what the font subsets were cut to."""
    needed: dict[str, set[str]] = {key: set() for key in FONT_KEYS}
    for own_font, texts in all_texts().items():
        for text in texts:
            for key, piece in runs(text, own_font):
                needed[key].update(piece)
    for chars in needed.values():
        chars.add(" ")  # runs keep the spaces that follow them, so every font needs one
    return {key: "".join(sorted(chars)) for key, chars in needed.items()}
