// Generated from schemas/config.schema.json by .ci/embed-config-schema. Do not edit: edit the schema and run
// the script. ConfigSchemaTests check that this text and the file are the same, byte for byte.

/// The text of `schemas/config.schema.json`.
enum ConfigSchemaText {
    static let json = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://steward.dev/schemas/config.schema.json",
  "title": "steward.json",
  "description": "Steward's configuration (JSON5 accepted). Paths are relative to this file. Secrets are references (env:NAME or file:PATH), never values.",
  "type": "object",
  "additionalProperties": false,
  "required": ["source"],
  "properties": {
    "$schema": { "type": "string" },
    "state": { "type": "string", "default": ".steward", "description": "The state directory: journal, snapshots, per-app connector state." },
    "checkpointKey": { "$ref": "#/$defs/secretReference", "description": "HMAC key for signed journal checkpoints; must be outside the state directory." },
    "journal": { "type": "object", "description": "Reserved for journal tuning." },
    "serve": {
      "type": "object", "additionalProperties": false,
      "description": "steward serve: the long-running service (scheduler, HR webhooks, health and metrics).",
      "properties": {
        "listen": { "type": "string", "pattern": "^.+:[0-9]+$", "default": "127.0.0.1:8470", "description": "HOST:PORT to listen on; port 0 picks a free one. --listen overrides it." },
        "publicURL": { "type": "string", "pattern": "^https?://", "description": "The URL people reach the service at, used in the links it sends." },
        "linkKey": { "$ref": "#/$defs/secretReference", "description": "HMAC key for reviewer links." },
        "webhookSecret": { "$ref": "#/$defs/secretReference", "description": "Shared secret of POST /hooks/source (X-Steward-Signature: v1=HMAC-SHA256(secret, timestamp.body)). Without it the hook answers 404." },
        "webhookScheme": { "enum": ["steward", "bamboohr"], "default": "steward", "description": "Whose signature POST /hooks/source checks: Steward's (X-Steward-*) or BambooHR's (X-BambooHR-Signature over body + timestamp, with the webhook's private key as webhookSecret)." },
        "slack": {
          "type": "object", "additionalProperties": false,
          "description": "POST /hooks/slack: decisions from the buttons of Slack messages (the Slack app's interactivity Request URL).",
          "properties": {
            "signingSecret": { "$ref": "#/$defs/secretReference", "description": "The Slack app's signing secret (v0 signatures). Without it the hook answers 404." },
            "users": { "type": "object", "additionalProperties": { "type": "string", "pattern": "@" }, "description": "Slack user id (U0123ABC) to the reviewer's e-mail; a press by anyone else is refused." }
          }
        },
        "schedule": {
          "type": "object", "additionalProperties": false,
          "properties": {
            "sync": { "type": "string", "pattern": "^[0-9]+(s|m|h)$", "default": "15m", "description": "How often to sync the source and every app." },
            "apply": { "enum": ["auto", "manual"], "default": "manual", "description": "auto: plan and apply after each sync and webhook; manual: plans wait for steward apply." }
          }
        }
      }
    },
    "discovery": {
      "type": "array",
      "description": "Discovery sources: exports that show which apps people use (expenses, OAuth grants, sign-ins, browser domains), read by the file plugin with settings.kind and synced by steward sync (docs/discovery.md).",
      "items": {
        "allOf": [{ "$ref": "#/$defs/connector" }],
        "required": ["id", "plugin"],
        "unevaluatedProperties": false
      }
    },
    "vendorCatalogue": { "type": "string", "minLength": 1, "description": "A vendor catalogue file (the shape of plugins/discovery/catalogue.json) whose vendors extend the shipped catalogue or, by the same name, replace its entry." },
    "findings": {
      "type": "object", "additionalProperties": false,
      "description": "What steward plan does with discovery findings: disable the account (a plan action) or review it (listed for the next campaign with scope findings); absent: report only.",
      "properties": {
        "leftover": { "enum": ["disable", "review", "report"] },
        "dormant": { "enum": ["disable", "review", "report"] },
        "orphan": { "enum": ["disable", "review", "report"] },
        "service": { "enum": ["disable", "review", "report"] },
        "privileged": { "enum": ["review", "report"] }
      }
    },
    "notify": {
      "type": "array",
      "description": "Connectors that deliver messages to people: e-mail (SMTP, Microsoft Graph), Slack, Teams, a JSON webhook. With one, every message goes through it unless a review names another or none.",
      "items": {
        "allOf": [{ "$ref": "#/$defs/connector" }],
        "required": ["id"],
        "unevaluatedProperties": false
      }
    },
    "messages": {
      "type": "object", "additionalProperties": false,
      "description": "The texts Steward sends, over the defaults; {{placeholders}} per template (docs/notify.md).",
      "properties": {
        "review.launched": { "$ref": "#/$defs/message" },
        "review.reminder": { "$ref": "#/$defs/message" },
        "review.escalated": { "$ref": "#/$defs/message" },
        "review.delegated": { "$ref": "#/$defs/message" },
        "access.changed": { "$ref": "#/$defs/message" }
      }
    },
    "source": {
      "description": "The HR source connector.",
      "allOf": [{ "$ref": "#/$defs/connector" }],
      "properties": {
        "id": { "type": "string", "default": "hr" },
        "maxShrinkPercent": { "type": "number", "minimum": 0, "maximum": 100, "default": 20,
          "description": "Block plans that follow a feed which lost more than this share of its people since the last apply." }
      },
      "unevaluatedProperties": false
    },
    "apps": {
      "type": "array",
      "items": {
        "allOf": [{ "$ref": "#/$defs/connector" }],
        "required": ["id", "plugin"],
        "properties": {
          "mode": { "enum": ["enforce", "observe"], "default": "enforce", "description": "observe: planned, never applied." },
          "correlate": { "type": "array", "minItems": 1, "items": { "enum": ["employeeNumber", "externalId", "email", "userName"] },
            "default": ["employeeNumber", "externalId", "email", "userName"], "description": "How accounts are linked to people, in order." },
          "deprovision": {
            "type": "object", "additionalProperties": false,
            "properties": {
              "action": { "enum": ["disable", "delete"], "default": "disable" },
              "deleteAfterDays": { "type": "integer", "minimum": 0, "maximum": 36500, "description": "Delete disabled accounts after this many days." },
              "maxPercent": { "type": "number", "minimum": 0, "maximum": 100, "default": 10,
                "description": "Block a plan that would disable or delete more than this share of the app's accounts." }
            }
          },
          "orphans": { "enum": ["report", "disable"], "default": "report", "description": "Accounts linked to nobody." },
          "manage": { "type": "array", "items": { "type": "string" }, "description": "Entitlement types Steward manages here (default: all)." },
          "userName": { "enum": ["email", "emailLocalPart", "id"], "default": "email", "description": "userName of accounts Steward creates." },
          "updateAttributes": { "type": "array", "items": { "enum": ["email", "displayName", "givenName", "familyName", "department", "title"] } },
          "entitlementOwners": {
            "type": "object",
            "description": "Who answers for entitlements in reviews (the entitlementOwner reviewer): type:name pattern (* matches anything) → e-mail; the first match wins.",
            "additionalProperties": { "type": "string", "pattern": "@" }
          },
          "privileged": {
            "type": "array",
            "description": "Entitlements that count as privileged access: type:name patterns such as role:admin or group:prod-*.",
            "items": { "type": "string", "pattern": "^[^:]+:.+$" }
          },
          "dormantAfterDays": { "type": "integer", "minimum": 1, "maximum": 36500, "default": 90,
            "description": "steward discover: an enabled account whose last sign-in (or, never signed in, its creation) is older than this is dormant." },
          "licence": {
            "type": "object", "additionalProperties": false, "required": ["entitlement"],
            "description": "The entitlement that costs a seat, and what a seat costs a month: dormant holders are licences paid for nothing.",
            "properties": {
              "entitlement": { "type": "string", "pattern": "^[^:]+:.+$", "description": "type:name, such as license:enterprise; * matches anything." },
              "monthlyCost": { "type": "number", "minimum": 0 },
              "currency": { "type": "string", "default": "USD" }
            }
          },
          "vendor": { "type": "string", "minLength": 1, "description": "The vendor catalogue's name for this app (\"Google Workspace\"), so discovery evidence of it counts as a connected app; by default the app's id and description are matched to the catalogue." },
          "serviceAccounts": {
            "type": "array", "items": { "type": "string", "minLength": 1 },
            "description": "Name patterns (* matches anything, case ignored) of shared and service accounts, matched against the user name, the e-mail's local part and the display name; replaces the built-in list (svc-*, *-bot, noreply*, admin, ...)."
          }
        },
        "unevaluatedProperties": false
      }
    },
    "roles": {
      "type": "object",
      "description": "Named bundles of app entitlements.",
      "additionalProperties": { "type": "array", "items": { "$ref": "#/$defs/grantRule" } }
    },
    "policies": {
      "type": "array",
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": ["id"],
        "properties": {
          "id": { "type": "string", "minLength": 1 },
          "description": { "type": "string" },
          "when": { "$ref": "#/$defs/condition" },
          "grant": { "type": "array", "items": { "$ref": "#/$defs/grantRule" } },
          "roles": { "type": "array", "items": { "type": "string" } }
        }
      }
    },
    "exceptions": {
      "type": "array",
      "description": "Approved access beyond the rules, optionally time-bound.",
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": ["person", "app", "entitlements"],
        "properties": {
          "id": { "type": "string" },
          "person": { "type": "string" },
          "app": { "type": "string" },
          "entitlements": { "$ref": "#/$defs/entitlementNames" },
          "until": { "type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$" },
          "reason": { "type": "string" },
          "approvedBy": { "type": "string" },
          "ticket": { "type": "string" }
        }
      }
    },
    "reviewerGroups": {
      "type": "object",
      "description": "Named groups of reviewers (reviewer: \"group:NAME\"): any member may decide, never on their own access.",
      "additionalProperties": { "type": "array", "minItems": 1, "items": { "type": "string", "pattern": "@" } }
    },
    "reviews": {
      "type": "array",
      "description": "Access review campaigns, started with `steward review start ID`.",
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": ["id"],
        "properties": {
          "id": { "type": "string", "pattern": "^[A-Za-z0-9._-]+$" },
          "description": { "type": "string" },
          "scope": {
            "description": "\"everything\", or what to cover: apps, entitlement patterns, privileged only, whose access (a when object), and which kinds of item.",
            "oneOf": [
              { "const": "everything" },
              {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                  "apps": { "type": "array", "items": { "type": "string" } },
                  "entitlements": { "type": "array", "items": { "type": "string", "pattern": "^[^:]+:.+$" } },
                  "privileged": { "type": "boolean" },
                  "people": { "$ref": "#/$defs/condition" },
                  "include": { "type": "array", "minItems": 1, "items": { "enum": ["access", "orphans", "leavers", "findings"] } },
                  "findings": { "type": "array", "minItems": 1, "items": { "enum": ["orphan", "leftover", "dormant", "service"] }, "description": "Review the accounts discovery findings of these kinds name (adds findings to include); include: [\"findings\"] alone takes the kinds the findings setting marks review." }
                }
              }
            ]
          },
          "stages": {
            "type": "array", "minItems": 1, "maxItems": 5,
            "items": {
              "type": "object", "additionalProperties": false, "required": ["reviewer"],
              "properties": {
                "reviewer": { "$ref": "#/$defs/reviewerRule" },
                "fallback": { "$ref": "#/$defs/reviewerRule" },
                "days": { "type": "integer", "minimum": 1, "maximum": 365 }
              }
            }
          },
          "fallback": { "$ref": "#/$defs/reviewerRule" },
          "days": { "type": "integer", "minimum": 1, "maximum": 365, "default": 14 },
          "reminders": {
            "type": "object", "additionalProperties": false,
            "properties": {
              "before": { "type": "array", "items": { "type": "integer", "minimum": 1, "maximum": 365 }, "default": [7, 3, 1] },
              "overdueEvery": { "type": "integer", "minimum": 1, "maximum": 365, "default": 1 }
            }
          },
          "escalateAfterDaysOverdue": { "type": "integer", "minimum": 0, "maximum": 365 },
          "defaultDecision": { "enum": ["none", "keep", "revoke", "recommendation"], "default": "none" },
          "recommend": {
            "type": "object", "additionalProperties": false,
            "properties": {
              "inactiveDays": { "type": "integer", "minimum": 1, "maximum": 3650, "default": 90 },
              "peerPercent": { "type": "number", "minimum": 0, "maximum": 100, "default": 10 }
            }
          },
          "remediate": { "enum": ["atClose", "immediately"], "default": "atClose" },
          "maxSyncAgeHours": { "type": "number", "minimum": 0, "maximum": 8760, "default": 24 },
          "every": { "type": "string", "description": "When `steward serve` launches it: quarter, month, or a five-field cron line." },
          "notify": { "type": "string", "minLength": 1, "description": "The notifier (notify[].id) its messages go through, or none; default: the first one configured." },
          "chatButtons": { "enum": ["all", "unprivileged", "none"], "default": "all", "description": "Which items chat messages offer keep/revoke buttons for; unprivileged: privileged items are decided on the web page only." },
          "trigger": {
            "type": "object", "additionalProperties": false, "required": ["event"],
            "description": "A micro-certification: a one-item campaign opened by a sync when the event happens.",
            "properties": {
              "event": { "enum": ["privilegedGrant", "orphan", "moverLeftovers", "exceptionExpiring"] },
              "days": { "type": "integer", "minimum": 0, "maximum": 365, "description": "moverLeftovers: days after the move (default 14); exceptionExpiring: days before the end (default 7)." }
            }
          }
        }
      }
    }
  },
  "$defs": {
    "secretReference": { "type": "string", "pattern": "^(env:.+|file:.+)$" },
    "message": {
      "type": "object", "additionalProperties": false,
      "properties": { "subject": { "type": "string" }, "text": { "type": "string" } }
    },
    "connector": {
      "type": "object",
      "required": ["plugin"],
      "properties": {
        "id": { "type": "string", "minLength": 1 },
        "plugin": { "type": "string", "minLength": 1, "description": "A plugin name from `steward plugins list`." },
        "settings": { "type": "object", "description": "Validated by the plugin's settingsSchema." },
        "secrets": { "type": "object", "additionalProperties": { "$ref": "#/$defs/secretReference" } },
        "limits": {
          "type": "object", "additionalProperties": false,
          "properties": {
            "concurrency": { "type": "integer", "minimum": 1, "maximum": 256, "default": 4 },
            "requestTimeoutSeconds": { "type": "number", "exclusiveMinimum": 0, "default": 120 }
          }
        },
        "description": { "type": "string" },
        "owner": { "type": "string", "description": "Who answers for the app (an e-mail): the appOwner reviewer." }
      }
    },
    "entitlementNames": {
      "type": "array",
      "items": { "type": "string", "pattern": "^[^:]+:.+$", "description": "type:name, e.g. role:Admin or group:sales" }
    },
    "grantRule": {
      "type": "object",
      "additionalProperties": false,
      "required": ["app", "entitlements"],
      "properties": {
        "app": { "type": "string" },
        "entitlements": { "$ref": "#/$defs/entitlementNames" },
        "pin": { "type": "boolean", "description": "For a role tier: this value wins over more privileged ones from other rules." }
      }
    },
    "matcher": {
      "oneOf": [
        { "type": "string" },
        { "type": "array", "items": { "type": "string" } },
        {
          "type": "object", "additionalProperties": false, "minProperties": 1, "maxProperties": 1,
          "properties": {
            "prefix": { "oneOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" } }] },
            "not": { "$ref": "#/$defs/matcher" },
            "present": { "type": "boolean" }
          }
        }
      ]
    },
    "reviewerRule": {
      "type": "string",
      "description": "manager, appOwner, entitlementOwner, group:NAME, or an e-mail address.",
      "pattern": "^(manager|appOwner|entitlementOwner|group:.+|[^@\\s]+@[^@\\s]+)$"
    },
    "condition": {
      "type": "object",
      "description": "Every clause must hold; values compare case-insensitively. Keys: department, title, location, employmentType, costCenter, managerId, status, or any HR column.",
      "additionalProperties": { "$ref": "#/$defs/matcher" }
    }
  }
}

"""#
}
