"""On-call URLs, mounted at the site root: pages, feeds, the acknowledge link and the Twilio/Slack webhooks."""

from django.urls import path

from . import feeds, views
from .integrations import views as inbound

urlpatterns = [
    path("ops/oncall/", views.ops_oncall, name="ops-oncall"),
    path("ops/oncall/<uuid:pk>/", views.ops_schedule, name="ops-oncall-schedule"),
    path("org/<slug:slug>/oncall/", views.org_oncall, name="org-oncall"),
    path("org/<slug:slug>/oncall/<uuid:pk>/", views.org_schedule, name="org-oncall-schedule"),
    path("oncall/me/", views.my_paging, name="oncall-me"),
    path("oncall/feeds/schedule/<str:token>.ics", feeds.schedule_feed, name="oncall-feed-schedule"),
    path("oncall/feeds/person/<str:token>.ics", feeds.person_feed, name="oncall-feed-person"),
    path("oncall/ack/<str:signed>/", inbound.acknowledge, name="oncall-acknowledge"),
    path("oncall/twilio/sms/", inbound.twilio_sms, name="oncall-twilio-sms"),
    path("oncall/twilio/voice/<str:signed>/", inbound.twilio_voice, name="oncall-twilio-voice"),
    path("oncall/slack/actions/", inbound.slack_actions, name="oncall-slack-actions"),
]
