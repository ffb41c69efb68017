using Lenta.Server.Platform.Database;

namespace Lenta.Server.Accounts.OAuth;

/// <summary>
/// OpenIddict's tables (EF Core model of OpenIddict.EntityFrameworkCore 7.8, renamed to oauth_*), as EF Core's
/// GenerateCreateScript wrote them for each engine. Kept as text so the schema only changes through a new migration.
/// </summary>
public sealed class OAuthMigrations : IMigrationSource
{
    public IEnumerable<Migration> Migrations =>
    [
        new("20261126_12_openiddict",
            Sql: """
            CREATE TABLE "oauth_applications" (
                "Id" TEXT NOT NULL CONSTRAINT "PK_oauth_applications" PRIMARY KEY,
                "ApplicationType" TEXT NULL,
                "ClientId" TEXT NULL,
                "ClientSecret" TEXT NULL,
                "ClientType" TEXT NULL,
                "ConcurrencyToken" TEXT NULL,
                "ConsentType" TEXT NULL,
                "DisplayName" TEXT NULL,
                "DisplayNames" TEXT NULL,
                "JsonWebKeySet" TEXT NULL,
                "Permissions" TEXT NULL,
                "PostLogoutRedirectUris" TEXT NULL,
                "Properties" TEXT NULL,
                "RedirectUris" TEXT NULL,
                "Requirements" TEXT NULL,
                "Settings" TEXT NULL
            );
            CREATE TABLE "oauth_scopes" (
                "Id" TEXT NOT NULL CONSTRAINT "PK_oauth_scopes" PRIMARY KEY,
                "ConcurrencyToken" TEXT NULL,
                "Description" TEXT NULL,
                "Descriptions" TEXT NULL,
                "DisplayName" TEXT NULL,
                "DisplayNames" TEXT NULL,
                "Name" TEXT NULL,
                "Properties" TEXT NULL,
                "Resources" TEXT NULL
            );
            CREATE TABLE "oauth_authorizations" (
                "Id" TEXT NOT NULL CONSTRAINT "PK_oauth_authorizations" PRIMARY KEY,
                "ApplicationId" TEXT NULL,
                "ConcurrencyToken" TEXT NULL,
                "CreationDate" TEXT NULL,
                "Properties" TEXT NULL,
                "Scopes" TEXT NULL,
                "Status" TEXT NULL,
                "Subject" TEXT NULL,
                "Type" TEXT NULL,
                CONSTRAINT "FK_oauth_authorizations_oauth_applications_ApplicationId" FOREIGN KEY ("ApplicationId") REFERENCES "oauth_applications" ("Id")
            );
            CREATE TABLE "oauth_tokens" (
                "Id" TEXT NOT NULL CONSTRAINT "PK_oauth_tokens" PRIMARY KEY,
                "ApplicationId" TEXT NULL,
                "AuthorizationId" TEXT NULL,
                "ConcurrencyToken" TEXT NULL,
                "CreationDate" TEXT NULL,
                "ExpirationDate" TEXT NULL,
                "Payload" TEXT NULL,
                "Properties" TEXT NULL,
                "RedemptionDate" TEXT NULL,
                "ReferenceId" TEXT NULL,
                "Status" TEXT NULL,
                "Subject" TEXT NULL,
                "Type" TEXT NULL,
                CONSTRAINT "FK_oauth_tokens_oauth_applications_ApplicationId" FOREIGN KEY ("ApplicationId") REFERENCES "oauth_applications" ("Id"),
                CONSTRAINT "FK_oauth_tokens_oauth_authorizations_AuthorizationId" FOREIGN KEY ("AuthorizationId") REFERENCES "oauth_authorizations" ("Id")
            );
            CREATE UNIQUE INDEX "IX_oauth_applications_ClientId" ON "oauth_applications" ("ClientId");
            CREATE INDEX "IX_oauth_authorizations_ApplicationId_Status_Subject_Type" ON "oauth_authorizations" ("ApplicationId", "Status", "Subject", "Type");
            CREATE UNIQUE INDEX "IX_oauth_scopes_Name" ON "oauth_scopes" ("Name");
            CREATE INDEX "IX_oauth_tokens_ApplicationId_Status_Subject_Type" ON "oauth_tokens" ("ApplicationId", "Status", "Subject", "Type");
            CREATE INDEX "IX_oauth_tokens_AuthorizationId" ON "oauth_tokens" ("AuthorizationId");
            CREATE UNIQUE INDEX "IX_oauth_tokens_ReferenceId" ON "oauth_tokens" ("ReferenceId");
            """,
            PostgresSql: """
            CREATE TABLE oauth_applications (
                "Id" text NOT NULL,
                "ApplicationType" character varying(50),
                "ClientId" character varying(100),
                "ClientSecret" text,
                "ClientType" character varying(50),
                "ConcurrencyToken" character varying(50),
                "ConsentType" character varying(50),
                "DisplayName" text,
                "DisplayNames" text,
                "JsonWebKeySet" text,
                "Permissions" text,
                "PostLogoutRedirectUris" text,
                "Properties" text,
                "RedirectUris" text,
                "Requirements" text,
                "Settings" text,
                CONSTRAINT "PK_oauth_applications" PRIMARY KEY ("Id")
            );
            CREATE TABLE oauth_scopes (
                "Id" text NOT NULL,
                "ConcurrencyToken" character varying(50),
                "Description" text,
                "Descriptions" text,
                "DisplayName" text,
                "DisplayNames" text,
                "Name" character varying(200),
                "Properties" text,
                "Resources" text,
                CONSTRAINT "PK_oauth_scopes" PRIMARY KEY ("Id")
            );
            CREATE TABLE oauth_authorizations (
                "Id" text NOT NULL,
                "ApplicationId" text,
                "ConcurrencyToken" character varying(50),
                "CreationDate" timestamp with time zone,
                "Properties" text,
                "Scopes" text,
                "Status" character varying(50),
                "Subject" character varying(400),
                "Type" character varying(50),
                CONSTRAINT "PK_oauth_authorizations" PRIMARY KEY ("Id"),
                CONSTRAINT "FK_oauth_authorizations_oauth_applications_ApplicationId" FOREIGN KEY ("ApplicationId") REFERENCES oauth_applications ("Id")
            );
            CREATE TABLE oauth_tokens (
                "Id" text NOT NULL,
                "ApplicationId" text,
                "AuthorizationId" text,
                "ConcurrencyToken" character varying(50),
                "CreationDate" timestamp with time zone,
                "ExpirationDate" timestamp with time zone,
                "Payload" text,
                "Properties" text,
                "RedemptionDate" timestamp with time zone,
                "ReferenceId" character varying(100),
                "Status" character varying(50),
                "Subject" character varying(400),
                "Type" character varying(150),
                CONSTRAINT "PK_oauth_tokens" PRIMARY KEY ("Id"),
                CONSTRAINT "FK_oauth_tokens_oauth_applications_ApplicationId" FOREIGN KEY ("ApplicationId") REFERENCES oauth_applications ("Id"),
                CONSTRAINT "FK_oauth_tokens_oauth_authorizations_AuthorizationId" FOREIGN KEY ("AuthorizationId") REFERENCES oauth_authorizations ("Id")
            );
            CREATE UNIQUE INDEX "IX_oauth_applications_ClientId" ON oauth_applications ("ClientId");
            CREATE INDEX "IX_oauth_authorizations_ApplicationId_Status_Subject_Type" ON oauth_authorizations ("ApplicationId", "Status", "Subject", "Type");
            CREATE UNIQUE INDEX "IX_oauth_scopes_Name" ON oauth_scopes ("Name");
            CREATE INDEX "IX_oauth_tokens_ApplicationId_Status_Subject_Type" ON oauth_tokens ("ApplicationId", "Status", "Subject", "Type");
            CREATE INDEX "IX_oauth_tokens_AuthorizationId" ON oauth_tokens ("AuthorizationId");
            CREATE UNIQUE INDEX "IX_oauth_tokens_ReferenceId" ON oauth_tokens ("ReferenceId");
            """),
    ];
}
