DROP TABLE member_attribute_values;
DROP TABLE attribute_definitions;
