using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore.Models;

namespace Lenta.Server.Accounts.OAuth;

/// <summary>
/// OpenIddict's stores (registered apps, authorization codes) on EF Core, in the same database as everything
/// else. Only OpenIddict uses this context; its tables are created by <see cref="OAuthMigrations"/>, not by EF.
/// </summary>
public sealed class OAuthDbContext(DbContextOptions<OAuthDbContext> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.Entity<OpenIddictEntityFrameworkCoreApplication>().ToTable("oauth_applications");
        builder.Entity<OpenIddictEntityFrameworkCoreAuthorization>().ToTable("oauth_authorizations");
        builder.Entity<OpenIddictEntityFrameworkCoreScope>().ToTable("oauth_scopes");
        builder.Entity<OpenIddictEntityFrameworkCoreToken>().ToTable("oauth_tokens");
    }

    public static void Configure(DbContextOptionsBuilder options, DatabaseOptions db, LentaOptions lenta)
    {
        if (db.Provider == "postgres")
            options.UseNpgsql(db.ConnectionString);
        else
            options.UseSqlite(string.IsNullOrWhiteSpace(db.ConnectionString)
                ? $"Data Source={Path.Combine(Path.GetFullPath(lenta.DataPath), "lenta.db")};Default Timeout=30"
                : db.ConnectionString);
        options.UseOpenIddict();
    }
}
