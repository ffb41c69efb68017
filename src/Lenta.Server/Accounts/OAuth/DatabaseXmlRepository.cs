using System.Xml.Linq;
using Dapper;
using Lenta.Server.Platform.Database;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Lenta.Server.Accounts.OAuth;

/// <summary>ASP.NET Core Data Protection keys (session cookies, antiforgery) in the database, shared by every node.</summary>
public sealed class DatabaseXmlRepository(IDatabase db) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() =>
        db.ReadAsync(async c => (await c.QueryAsync<string>("SELECT xml FROM data_protection_keys")).Select(x => XElement.Parse(x)).ToList())
            .GetAwaiter().GetResult();

    public void StoreElement(XElement element, string friendlyName) =>
        db.WriteAsync(w => w.ExecuteAsync("INSERT INTO data_protection_keys (name, xml) VALUES (@name, @xml) ON CONFLICT (name) DO NOTHING",
            new { name = friendlyName, xml = element.ToString(SaveOptions.DisableFormatting) })).GetAwaiter().GetResult();
}
