-- _tag_changes (sync_tags on Snowflake): existing tags whose allowed values or comment changed are altered in place.
{%- set library = {'tags': {
  'pii': {'allowed_values': ['email', 'name'], 'description': 'Personal data.'},
  'tier': {'description': ''},
  'same': {'allowed_values': ['b', 'a'], 'description': 'Kept.'},
  'new_tag': {'description': 'Created, not altered.'}}} -%}
{%- set current = {
  'pii': {'allowed_values': ['email'], 'comment': 'Old text.'},
  'tier': {'allowed_values': ['gold'], 'comment': 'Tiers.'},
  'same': {'allowed_values': ['a', 'b'], 'comment': 'Kept.'}} -%}
{{ cases_select([
  ('changed values and comment', data_mesh._tag_changes({'tags': {'pii': library.tags.pii}}, current) | join('; ')),
  ('values and comment removed', data_mesh._tag_changes({'tags': {'tier': library.tags.tier}}, current) | join('; ')),
  ('unchanged, in another order', data_mesh._tag_changes({'tags': {'same': library.tags.same}}, current) | length),
  ('a new tag is not altered', data_mesh._tag_changes({'tags': {'new_tag': library.tags.new_tag}}, current) | length),
]) }}
