"""The pages' own words in the seven languages of the coalition. The reader's language comes
from `?lang=`, then the `lang` cookie (set when they switch), then the browser's
Accept-Language; English fills any gap."""
from __future__ import annotations

from flask import request

LANGUAGES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español", "fa": "فارسی",
             "tr": "Türkçe", "ru": "Русский"}
RTL = {"fa"}

_EN = {
    "campaigns": "Campaigns",
    "no_campaigns": "No campaign is open yet.",
    "day_of_action": "Day of action",
    "days_left": "{n} days to go",
    "today": "It is today.",
    "past": "It took place on {date}.",
    "the_call": "The call",
    "signatories": "Signatories",
    "initial": "Initial signatories",
    "subsequent": "Subsequent signatories",
    "events": "Events",
    "no_events": "No event matches.",
    "timeline": "Follow the sun",
    "map": "Map",
    "reports": "Reports",
    "materials": "Material package",
    "download_zip": "Download everything (zip)",
    "calendar": "Add to your calendar",
    "subscribe": "Be told by e-mail",
    "email": "E-mail address",
    "country": "Country",
    "activity": "Activity",
    "language": "Language",
    "filter": "Show",
    "subscribe_button": "Subscribe",
    "check_inbox": "Check your inbox: follow the link in the e-mail we sent to confirm.",
    "when_local": "Local time",
    "your_time": "Your time",
    "where": "Where",
    "address_hidden": "The exact place is not public yet.",
    "not_found": "Nothing here.",
    "back": "Back to the campaign",
    "turnout": "Turnout",
}

CATALOGUES: dict[str, dict[str, str]] = {
    "en": _EN,
    "de": {"campaigns": "Kampagnen", "no_campaigns": "Noch ist keine Kampagne offen.",
           "day_of_action": "Aktionstag", "days_left": "noch {n} Tage", "today": "Es ist heute.",
           "past": "Er fand am {date} statt.", "the_call": "Der Aufruf", "signatories": "Unterzeichnende",
           "initial": "Erstunterzeichnende", "subsequent": "Weitere Unterzeichnende", "events": "Veranstaltungen",
           "no_events": "Keine Veranstaltung passt.", "timeline": "Der Sonne folgen", "map": "Karte",
           "reports": "Berichte", "materials": "Materialpaket", "download_zip": "Alles herunterladen (zip)",
           "calendar": "In den Kalender", "subscribe": "Per E-Mail informiert werden", "email": "E-Mail-Adresse",
           "country": "Land", "activity": "Aktion", "language": "Sprache", "filter": "Zeigen",
           "subscribe_button": "Abonnieren",
           "check_inbox": "Schau in dein Postfach: Folge dem Link in der E-Mail, um zu bestätigen.",
           "when_local": "Ortszeit", "your_time": "Deine Zeit", "where": "Wo",
           "address_hidden": "Der genaue Ort ist noch nicht öffentlich.", "not_found": "Hier ist nichts.",
           "back": "Zurück zur Kampagne", "turnout": "Teilnahme"},
    "fr": {"campaigns": "Campagnes", "no_campaigns": "Aucune campagne n’est encore ouverte.",
           "day_of_action": "Journée d’action", "days_left": "encore {n} jours", "today": "C’est aujourd’hui.",
           "past": "Elle a eu lieu le {date}.", "the_call": "L’appel", "signatories": "Signataires",
           "initial": "Premiers signataires", "subsequent": "Signataires suivants", "events": "Événements",
           "no_events": "Aucun événement ne correspond.", "timeline": "Suivre le soleil", "map": "Carte",
           "reports": "Comptes rendus", "materials": "Matériel", "download_zip": "Tout télécharger (zip)",
           "calendar": "Ajouter au calendrier", "subscribe": "Être informé·e par e-mail",
           "email": "Adresse e-mail", "country": "Pays", "activity": "Action", "language": "Langue",
           "filter": "Afficher", "subscribe_button": "S’abonner",
           "check_inbox": "Regardez votre boîte : suivez le lien de l’e-mail pour confirmer.",
           "when_local": "Heure locale", "your_time": "Votre heure", "where": "Où",
           "address_hidden": "Le lieu exact n’est pas encore public.", "not_found": "Rien ici.",
           "back": "Retour à la campagne", "turnout": "Participation"},
    "es": {"campaigns": "Campañas", "no_campaigns": "Todavía no hay ninguna campaña abierta.",
           "day_of_action": "Día de acción", "days_left": "faltan {n} días", "today": "Es hoy.",
           "past": "Tuvo lugar el {date}.", "the_call": "El llamamiento", "signatories": "Firmantes",
           "initial": "Primeros firmantes", "subsequent": "Firmantes posteriores", "events": "Eventos",
           "no_events": "Ningún evento coincide.", "timeline": "Siguiendo al sol", "map": "Mapa",
           "reports": "Informes", "materials": "Materiales", "download_zip": "Descargar todo (zip)",
           "calendar": "Añadir al calendario", "subscribe": "Recibir avisos por correo",
           "email": "Correo electrónico", "country": "País", "activity": "Acción", "language": "Idioma",
           "filter": "Mostrar", "subscribe_button": "Suscribirse",
           "check_inbox": "Revisa tu correo: sigue el enlace del mensaje para confirmar.",
           "when_local": "Hora local", "your_time": "Tu hora", "where": "Dónde",
           "address_hidden": "El lugar exacto aún no es público.", "not_found": "Aquí no hay nada.",
           "back": "Volver a la campaña", "turnout": "Participación"},
    "fa": {"campaigns": "کارزارها", "no_campaigns": "هنوز هیچ کارزاری باز نیست.", "day_of_action": "روز اقدام",
           "days_left": "{n} روز مانده", "today": "امروز است.", "past": "در {date} برگزار شد.",
           "the_call": "فراخوان", "signatories": "امضاکنندگان", "initial": "نخستین امضاکنندگان",
           "subsequent": "امضاکنندگان بعدی", "events": "رویدادها", "no_events": "هیچ رویدادی پیدا نشد.",
           "timeline": "همراه با خورشید", "map": "نقشه", "reports": "گزارش‌ها", "materials": "بستهٔ مواد",
           "download_zip": "دریافت همه (zip)", "calendar": "افزودن به تقویم", "subscribe": "خبر از راه ایمیل",
           "email": "نشانی ایمیل", "country": "کشور", "activity": "نوع اقدام", "language": "زبان",
           "filter": "نمایش", "subscribe_button": "عضویت",
           "check_inbox": "صندوق ایمیل خود را ببینید: برای تأیید، پیوند ایمیل را باز کنید.",
           "when_local": "زمان محلی", "your_time": "زمان شما", "where": "کجا",
           "address_hidden": "نشانی دقیق هنوز عمومی نیست.", "not_found": "اینجا چیزی نیست.",
           "back": "بازگشت به کارزار", "turnout": "شمار شرکت‌کنندگان"},
    "tr": {"campaigns": "Kampanyalar", "no_campaigns": "Henüz açık bir kampanya yok.",
           "day_of_action": "Eylem günü", "days_left": "{n} gün kaldı", "today": "Bugün.",
           "past": "{date} tarihinde yapıldı.", "the_call": "Çağrı", "signatories": "İmzacılar",
           "initial": "İlk imzacılar", "subsequent": "Sonraki imzacılar", "events": "Etkinlikler",
           "no_events": "Eşleşen etkinlik yok.", "timeline": "Güneşi izle", "map": "Harita",
           "reports": "Raporlar", "materials": "Materyal paketi", "download_zip": "Hepsini indir (zip)",
           "calendar": "Takvime ekle", "subscribe": "E-postayla haber al", "email": "E-posta adresi",
           "country": "Ülke", "activity": "Eylem türü", "language": "Dil", "filter": "Göster",
           "subscribe_button": "Abone ol",
           "check_inbox": "Gelen kutunuza bakın: onaylamak için e-postadaki bağlantıyı açın.",
           "when_local": "Yerel saat", "your_time": "Sizin saatiniz", "where": "Nerede",
           "address_hidden": "Tam yer henüz açıklanmadı.", "not_found": "Burada bir şey yok.",
           "back": "Kampanyaya dön", "turnout": "Katılım"},
    "ru": {"campaigns": "Кампании", "no_campaigns": "Пока нет открытых кампаний.", "day_of_action": "День действий",
           "days_left": "осталось дней: {n}", "today": "Это сегодня.", "past": "Прошёл {date}.",
           "the_call": "Призыв", "signatories": "Подписавшие", "initial": "Первые подписавшие",
           "subsequent": "Присоединившиеся позже", "events": "События", "no_events": "Подходящих событий нет.",
           "timeline": "Вслед за солнцем", "map": "Карта", "reports": "Отчёты", "materials": "Материалы",
           "download_zip": "Скачать всё (zip)", "calendar": "Добавить в календарь",
           "subscribe": "Получать новости по почте", "email": "Адрес эл. почты", "country": "Страна",
           "activity": "Вид акции", "language": "Язык", "filter": "Показать", "subscribe_button": "Подписаться",
           "check_inbox": "Проверьте почту: перейдите по ссылке из письма, чтобы подтвердить.",
           "when_local": "Местное время", "your_time": "Ваше время", "where": "Где",
           "address_hidden": "Точное место пока не объявлено.", "not_found": "Здесь ничего нет.",
           "back": "Назад к кампании", "turnout": "Участников"},
}


def reader_language() -> str:
    wanted = request.args.get("lang") or request.cookies.get("lang")
    if wanted in LANGUAGES:
        return wanted
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def translator(language: str):
    catalogue = CATALOGUES.get(language, _EN)

    def t(key: str, **values) -> str:
        return (catalogue.get(key) or _EN[key]).format(**values)

    return t
