"""English: the reference catalogue and the fallback for every other language."""

MESSAGES = {
    # Labels of the details shown in a table (HTML) or as "Label: value" lines (text).
    "label.when": "When",
    "label.your_time": "Your time",
    "label.where": "Where",
    "label.type": "Type",
    "label.campaign": "Campaign",
    "label.country": "Country",
    "label.turnout": "Turnout",
    "label.organisation": "Organisation",
    "label.reason": "Reason",
    "label.endpoint": "Endpoint",
    "label.failures": "Failed deliveries",
    "label.dates": "New dates",
    "punct.colon": ": ",   # between a label and its value in the text part
    "list.separator": ", ",
    # Links
    "link.event": "See the event",
    "link.report": "Read the report",
    "link.review": "Review it",
    "link.confirm": "Confirm my subscription",
    "link.participation": 'Open my sign-up',
    "link.send_report": "Send your report",
    # Footers: why the reader gets the e-mail, and the way out.
    "footer.subscriber": "You receive this e-mail because this address subscribed to it.",
    "footer.subscriber_scope": "You receive this e-mail because this address subscribed to {scope}.",
    "footer.organisation": ("You receive this e-mail because this address is the contact of an organisation "
                            "taking part in the day of action."),
    "footer.coordinator": "You receive this e-mail because you are a coordinator of the day of action.",
    "footer.unsubscribe": "Unsubscribe",
    "footer.erase": "Erase everything held about this address",
    # What a subscription covers, for the caller to build scope_label with.
    "scope.everything": "all events",
    "scope.country": "events in {country}",
    "scope.campaign": "events of {campaign}",
    "scope.campaign_country": "events of {campaign} in {country}",
    "scope.organisation": "events by {organisation}",
    # When a reminded event starts.
    "when.day_before": "tomorrow",
    "when.soon": "soon",
    # Activity types (the events service's defaults; others are shown as given).
    "activity.demonstration": "Demonstration",
    "activity.rally": "Rally",
    "activity.lecture": "Lecture",
    "activity.discussion": "Discussion",
    "activity.cultural": "Cultural event",
    "activity.womens_solidarity_action": "Women's solidarity action",
    "activity.strike": "Strike",
    "activity.online": "Online action",
    "activity.other": "Other",
    # What changed in an event.
    "field.time": "time",
    "field.place": "place",
    "field.title": "title",
    "field.description": "description",
    "field.type": "type of activity",
    "field.online": "online link",
    # confirm_subscription
    "confirm_subscription.subject": "Please confirm your subscription",
    "confirm_subscription.intro": "Someone, hopefully you, asked for e-mails about {scope} to be sent to this address.",
    "confirm_subscription.action": "To confirm, open this link within {expires}:",
    "confirm_subscription.participation": 'You also said you will come. This link opens your sign-up: see whether you have a place, cancel, or erase it. Keep it to yourself: whoever has it can do the same.',
    "confirm_subscription.ignore": "If it was not you, ignore this e-mail: nothing more will be sent.",
    # new_event
    "new_event.subject": "New event: {title}",
    "new_event.intro": "A new event has been announced.",
    "new_event.intro_campaign": "A new event has been announced for {campaign}.",
    # event_changed
    "event_changed.subject": "Event changed: {title}",
    "event_changed.intro": "This event has changed: {fields}. The current details:",
    "event_changed.intro_unspecified": "This event has changed. The current details:",
    # place_freed
    "place_disclosed.subject": 'Where it happens: {title}',
    "place_disclosed.intro": 'The address of the event you are coming to is now public:',
    "host_message.subject": 'From the hosts of {title}',
    "host_message.intro": 'The hosts of the event you signed up for write:',
    "place_freed.subject": 'A place for you: {title}',
    "place_freed.intro": "A place has become free, and it is yours: you no longer wait, you are coming. If you cannot come after all, cancel on your sign-up's page so that someone else can.",
    # event_cancelled
    "event_cancelled.subject": "Cancelled: {title}",
    "event_cancelled.intro": "This event has been cancelled.",
    # reminder
    "reminder.subject": "Reminder: {title}, {when}",
    "reminder.intro": "A reminder: this event starts {when}.",
    # report_published
    "report_published.subject": "Report published: {title}",
    "report_published.intro": "A new report has been published.",
    "report_published.intro_campaign": "A new report has been published for {campaign}.",
    # event_decided
    "event_decided.subject.approved": "Your event is approved: {title}",
    "event_decided.subject.rejected": "Your event was not approved: {title}",
    "event_decided.approved": "Your event has been approved and is now public.",
    "event_decided.rejected": "Your event has not been approved.",
    # report_decided
    "report_decided.subject.approved": "Your report is published: {title}",
    "report_decided.subject.rejected": "Your report was not published: {title}",
    "report_decided.approved": "Your report has been approved and is now public.",
    "report_decided.rejected": "Your report has not been published.",
    # events_outside_window
    "events_outside_window.subject": "New dates for {campaign}",
    "events_outside_window.intro": "The dates of {campaign} have changed.",
    "events_outside_window.list": "These events of yours now lie outside the new dates. Please move or cancel them:",
    # report_request
    "report_request.subject": "Please send your report: {title}",
    "report_request.intro": ("Your event has ended. Thank you! Please send your report: how it went and how many "
                             "took part."),
    # event_submitted, report_submitted
    "event_submitted.subject": "Event to review: {title}",
    "event_submitted.intro": "{organisation} has submitted an event for review.",
    "report_submitted.subject": "Report to review: {title}",
    "report_submitted.intro": "{organisation} has submitted a report for review.",
    # delivery_failing
    "delivery_failing.subject.failing": "Webhook deliveries are failing",
    "delivery_failing.subject.disabled": "Webhook disabled after failed deliveries",
    "delivery_failing.failing": "Deliveries to this endpoint are failing.",
    "delivery_failing.disabled": ("Deliveries to this endpoint kept failing, so it has been disabled. "
                                  "Nothing more is sent to it until it is enabled again."),
    "delivery_failing.held": ("What it would have received meanwhile is kept for a few days: when you switch it"
                              " on again, you can choose to have it sent."),
    # A sign-up's confirmation e-mail, and the pages the links in e-mails open.
    'link.confirm_participation': 'Confirm my sign-up',
    'confirm_participation.subject': 'Please confirm your sign-up',
    'confirm_participation.intro': 'Someone, hopefully you, said with this address that they will come to {scope}.',
    'confirm_participation.action': 'To confirm, and to hold your places, open this link within {expires}:',
    'page.confirm.title': 'Confirm your subscription',
    'page.confirm.text': 'Press the button to start receiving e-mails.',
    'page.confirm.button': 'Confirm',
    'page.confirmed.title': 'Subscribed',
    'page.confirmed.text': 'You will receive what you asked for. Every e-mail has a link to stop them.',
    'page.confirm_participation.title': 'Confirm your sign-up',
    'page.confirm_participation.text': 'Press the button to confirm that you will come. Until then no place is held for you.',
    'page.confirm_participation.button': 'Confirm my sign-up',
    'page.confirmed_participation.title': 'Your sign-up is confirmed',
    'page.confirmed_participation.text': "It counts from now on: your sign-up's page says whether you have a place or wait for one. Reminders and changes will come by e-mail.",
    'page.unsubscribe.title': 'Unsubscribe',
    'page.unsubscribe.text': 'Press the button and you will receive no more of these e-mails.',
    'page.unsubscribe.button': 'Unsubscribe',
    'page.unsubscribed.title': 'Unsubscribed',
    'page.unsubscribed.text': 'You will receive no more of these e-mails.',
    'page.erase.title': 'Erase your address',
    'page.erase.text': 'Press the button and we erase every subscription and sign-up of this address and every record of e-mails sent to it.',
    'page.erase.button': 'Erase',
    'page.erased.title': 'Erased',
    'page.erased.text': 'Nothing about this address is kept any more.',
    'page.expired.title': 'This link has expired',
    'page.expired.text': 'Subscribe or sign up again, or use the link in a newer e-mail.',
    'page.invalid.title': 'This link is not valid',
    'page.invalid.text': 'It may have been cut or changed. Copy the whole link from the e-mail.',
    'page.gone.title': 'This confirmation is too late',
    'page.gone.text': 'It was not confirmed in time. Subscribe or sign up again.',
}
