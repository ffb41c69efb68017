using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lenta.Server.Api;

/// <summary>
/// A JSON request body read into nodes, refusing with a 400 what parses but cannot be taken as parameters: a key given
/// twice (RFC 8259 §4 leaves the meaning to each reader, so two readers of one request could see different values),
/// strings that are not Unicode text (invalid UTF-8, lone UTF-16 surrogates written as <c>\ud800</c>) or hold U+0000, nesting past
/// <see cref="RequestLimits.Depth"/> and more than <see cref="RequestLimits.Values"/> values.
/// </summary>
public static class JsonBody
{
    public static JsonObject Parse(ReadOnlyMemory<byte> utf8)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = RequestLimits.Depth });
        }
        catch (JsonException e)
        {
            throw Unreadable(e.Message);
        }
        using (document)
        {
            if (document.RootElement.ValueKind == JsonValueKind.Null)
                return [];
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new ApiException(400, "The request body must be a JSON object");
            var count = 0;
            try
            {
                return (JsonObject)Node(document.RootElement, ref count)!;
            }
            catch (InvalidOperationException)
            {
                // What JsonElement throws for a string or key that does not decode to UTF-16 text.
                throw Unreadable("a string or key is not valid UTF-8, or holds a lone UTF-16 surrogate");
            }
        }
    }

    /// <summary>PostgreSQL's text cannot hold U+0000 (its docs, "Character Types"), so no parameter may.</summary>
    public const string NulText = "a string holds the character U+0000, which no text can store";

    private static ApiException Unreadable(string why) => new(400, $"The request body is not valid JSON ({why})");

    private static JsonNode? Node(JsonElement element, ref int count)
    {
        if (++count > RequestLimits.Values)
            throw Unreadable($"more than {RequestLimits.Values} values");
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var obj = new JsonObject();
                foreach (var property in element.EnumerateObject())
                {
                    if (obj.ContainsKey(property.Name))
                        throw Unreadable($"the key \"{property.Name}\" appears twice");
                    if (property.Name.Contains('\0', StringComparison.Ordinal))
                        throw Unreadable(NulText);
                    obj[property.Name] = Node(property.Value, ref count);
                }
                return obj;
            case JsonValueKind.Array:
                var array = new JsonArray();
                foreach (var item in element.EnumerateArray())
                    array.Add(Node(item, ref count));
                return array;
            case JsonValueKind.String:
                var text = element.GetString()!;
                return text.Contains('\0', StringComparison.Ordinal) ? throw Unreadable(NulText) : JsonValue.Create(text);
            case JsonValueKind.True:
                return JsonValue.Create(true);
            case JsonValueKind.False:
                return JsonValue.Create(false);
            case JsonValueKind.Number:
                return JsonValue.Create(element.Clone());
            default:
                return null;
        }
    }
}
